// Which methods of the real qovery-typescript-axios client Latch implements, found from the client
// itself: every API class's methods are asked for their request (the generated param creators build
// it without sending anything) and kept when Latch serves that method and path.
import * as client from "qovery-typescript-axios";

export interface ClientMethod {
  /** `ClassName.methodName`, e.g. `ProjectSecretApi.createProjectSecret`. */
  name: string;
  className: string;
  method: string;
  httpMethod: string;
  /** The path with every parameter written `{}`, e.g. `/project/{}/secret`. */
  path: string;
}

type ParamCreator = Record<string, (...args: unknown[]) => Promise<{ url: string; options: { method?: string } }>>;

const PLACEHOLDER = "zzplaceholderzz";

/** Every method of every API class of the client, with the HTTP method and path it calls. */
export async function allClientMethods(): Promise<ClientMethod[]> {
  const methods: ClientMethod[] = [];
  const exports = client as unknown as Record<string, unknown>;
  const configuration = new client.Configuration({ basePath: "" });
  for (const className of Object.keys(exports).sort()) {
    const creatorFactory = exports[`${className}AxiosParamCreator`];
    if (!className.endsWith("Api") || typeof creatorFactory !== "function") continue;
    const creator = (creatorFactory as (c: unknown) => ParamCreator)(configuration);
    for (const method of Object.keys(creator).sort()) {
      const build = creator[method] as ParamCreator[string];
      const args = Array.from({ length: Math.max(build.length, 8) }, () => PLACEHOLDER);
      const request = await build(...args);
      const path = (request.url.split("?")[0] ?? "").replaceAll(PLACEHOLDER, "{}");
      methods.push({
        name: `${className}.${method}`,
        className,
        method,
        httpMethod: (request.options.method ?? "GET").toUpperCase(),
        path,
      });
    }
  }
  return methods;
}

/** Latch's routes under a prefix, as "METHOD /path/{}" from its OpenAPI document. */
export function latchRoutes(openapi: { paths: Record<string, Record<string, unknown>> }, prefix: string): Set<string> {
  const routes = new Set<string>();
  for (const [path, operations] of Object.entries(openapi.paths)) {
    if (!path.startsWith(prefix)) continue;
    for (const verb of Object.keys(operations))
      routes.add(`${verb.toUpperCase()} ${path.slice(prefix.length).replace(/\{[^}]+\}/g, "{}")}`);
  }
  return routes;
}

/** The client's methods whose request Latch serves. */
export async function implementedClientMethods(routes: Set<string>): Promise<ClientMethod[]> {
  return (await allClientMethods()).filter((m) => routes.has(`${m.httpMethod} ${m.path}`));
}
