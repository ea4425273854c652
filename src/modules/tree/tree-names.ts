import { AppError } from "../../errors.js";
import type { ServiceType } from "./tree-types.js";

export const SERVICE_LABEL: Record<ServiceType, string> = {
  APPLICATION: "Application",
  CONTAINER: "Container",
  JOB: "Job",
  HELM: "Helm",
  TERRAFORM: "Terraform",
  DATABASE: "Database",
};

export function validName(name: string, what: string): string {
  const trimmed = name.trim();
  if (trimmed === "") throw new AppError("VALIDATION_FAILED", `${what} name must not be empty`, { pointer: "/name" });
  if (trimmed.length > 255) throw new AppError("VALIDATION_FAILED", `${what} name must be at most 255 characters`, { pointer: "/name" });
  return trimmed;
}
