// The rules of the tree's Reactor-born settings, checked by the tree service for every face (the
// Reactor routes, the Qovery face, the dashboard): a web project needs a domain, a project's
// platform, a host's type and an environment's stage never change, an archive passphrase is never
// kept. Errors name fields (src/errors.ts); the faces say where they sit on their wire.
import { AppError } from "../../errors.js";
import {
  type EnvironmentMode,
  type EnvironmentSettings,
  HOST_TYPES,
  type HostSettings,
  type HostType,
  PLATFORMS,
  type Platform,
  PRIVACY_MODES,
  type ProjectSettings,
  stageOfMode,
} from "./tree-types.js";

function invalid(field: string, message: string): AppError {
  return new AppError("VALIDATION_FAILED", message, { field });
}

function checkPrivacy(settings: ProjectSettings): void {
  if (settings.privacy !== undefined && !(PRIVACY_MODES as readonly string[]).includes(settings.privacy)) {
    throw invalid("privacy", `privacy must be one of ${PRIVACY_MODES.join(", ")}`);
  }
}

/** A new project's platform (edge when none is given) and settings. */
export function checkNewProject(platform: Platform | undefined, settings: ProjectSettings): Platform {
  const chosen = platform ?? "edge";
  if (!(PLATFORMS as readonly string[]).includes(chosen)) throw invalid("platform", `platform must be one of ${PLATFORMS.join(", ")}`);
  checkPrivacy(settings);
  if (chosen === "web" && (settings.domains === undefined || settings.domains.length === 0)) {
    throw invalid("domains", "domains is required for a web project (at least one domain)");
  }
  return chosen;
}

/** A project's changed settings; `platform`, when given, must be the project's own. */
export function checkProjectChanges(current: { platform: Platform }, platform: Platform | undefined, settings: ProjectSettings): void {
  if (platform !== undefined && platform !== current.platform) throw invalid("platform", "platform cannot change");
  checkPrivacy(settings);
  if (current.platform === "web" && settings.domains !== undefined && settings.domains.length === 0) {
    throw invalid("domains", "domains must keep at least one domain for a web project");
  }
}

/** The settings a host keeps: an sftp host its connection fields, an akamai host none. */
export function hostSettings(typeOf: string, settings: HostSettings | undefined): HostSettings {
  return typeOf === "sftp" ? { ...settings } : {};
}

export function checkHostType(typeOf: HostType): void {
  if (!(HOST_TYPES as readonly string[]).includes(typeOf)) throw invalid("type_of", `type_of must be one of ${HOST_TYPES.join(", ")}`);
}

/** `typeOf`, when given on an update, must be the host's own: a host's type never changes. */
export function checkHostTypeUnchanged(current: { typeOf: string }, typeOf: HostType | undefined): void {
  if (typeOf !== undefined && typeOf !== current.typeOf) throw invalid("type_of", "type_of cannot change; create another host");
}

/** Archive passphrases would be a secret kept for builds Latch never makes: refused rather than stored. */
export function checkEnvironmentSettings(settings: EnvironmentSettings | undefined): void {
  if (settings?.archive_passphrase !== undefined) {
    throw invalid("archive_passphrase", "archive_passphrase is not supported: Latch builds no library archives");
  }
}

/**
 * `mode`, when given on an update, must keep the environment's stage: DEVELOPMENT and PREVIEW are
 * both development, so naming either for one of them changes nothing.
 */
export function checkModeUnchanged(current: { mode: EnvironmentMode }, mode: EnvironmentMode | undefined): void {
  if (mode !== undefined && stageOfMode(mode) !== stageOfMode(current.mode)) {
    throw invalid("mode", "mode cannot change; create another environment");
  }
}
