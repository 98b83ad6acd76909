/** Names the engine puts in every context; variables may not shadow them. */
export const RESERVED_VARS = ['host', 'hosts', 'groups', 'env', 'facts', 'secrets'] as const;
