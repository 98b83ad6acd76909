/** Can this machine run the local fleet? One line why not, so the e2e suite can skip visibly. */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { sbinPath } from './exec.js';
import type { FleetSupport } from './types.js';

const TOOLS: readonly (readonly [string, string])[] = [
  ['systemd-nspawn', 'systemd-container'],
  ['debootstrap', 'debootstrap'],
  ['ip', 'iproute2'],
  ['nsenter', 'util-linux'],
  ['mount', 'mount'],
  ['dpkg-scanpackages', 'dpkg-dev'],
  ['ssh', 'openssh-client'],
  ['ssh-keygen', 'openssh-client'],
  // The apt_source e2e signs its own repository.
  ['gpg', 'gnupg'],
];

function onPath(cmd: string): boolean {
  return sbinPath()
    .split(':')
    .some((dir) => {
      try {
        accessSync(join(dir, cmd), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

export function fleetSupport(): FleetSupport {
  if (process.platform !== 'linux')
    return { ok: false, reason: `the local fleet needs Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: 'the local fleet needs root (systemd-nspawn, overlay mounts, a bridge)' };
  const missing = TOOLS.filter(([cmd]) => !onPath(cmd));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
    return {
      ok: false,
      reason: `the local fleet needs ${missing.map(([c]) => c).join(', ')}: apt-get install -y ${pkgs}`,
    };
  }
  const filesystems = existsSync('/proc/filesystems') ? readFileSync('/proc/filesystems', 'utf8') : '';
  const loadable = existsSync(`/lib/modules/${release()}/kernel/fs/overlayfs`);
  if (!/\boverlay\b/.test(filesystems) && !existsSync('/sys/module/overlay') && !loadable) {
    return { ok: false, reason: 'the local fleet needs overlayfs (modprobe overlay)' };
  }
  return { ok: true };
}

/** Throws the one-line reason when this machine cannot run the fleet. */
export function assertFleetSupport(): void {
  const support = fleetSupport();
  if (!support.ok) throw new Error(support.reason);
}
