import { type TSchema, Type } from "@sinclair/typebox";

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const PLAN_ENUM = [
  "FREE",
  "TEAM",
  "TEAM_YEARLY",
  "ENTERPRISE",
  "ENTERPRISE_YEARLY",
  "PROFESSIONAL",
  "BUSINESS",
  "USER_2025",
  "TEAM_2025",
  "BUSINESS_2025",
  "ENTERPRISE_2025",
] as const;

export const OrganizationRequest = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 255 }),
  plan: Type.Union(PLAN_ENUM.map((plan) => Type.Literal(plan))),
  description: Type.Optional(Nullable(Type.String())),
  website_url: Type.Optional(Nullable(Type.String())),
  repository: Type.Optional(Nullable(Type.String())),
  logo_url: Type.Optional(Nullable(Type.String())),
  icon_url: Type.Optional(Nullable(Type.String())),
  admin_emails: Type.Optional(Nullable(Type.Array(Type.String()))),
});

export const OrganizationResponse = Type.Object({
  id: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  plan: Type.String(),
  website_url: Nullable(Type.String()),
  repository: Nullable(Type.String()),
  logo_url: Nullable(Type.String()),
  icon_url: Nullable(Type.String()),
  admin_emails: Nullable(Type.Array(Type.String())),
  owner: Type.String(),
});

export const OrganizationResponseList = Type.Object({ results: Type.Array(OrganizationResponse) });
