/** The user asked for something that cannot be done as asked; nothing was touched. */
export class UsageError extends Error {
  override name = 'UsageError';
}
