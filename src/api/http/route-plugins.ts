// One way a face registers its route plugins: in order, each given the face's services. Each
// plugin's options name the Pick<Services, …> it uses, which the face's own Pick includes.
import type { FastifyInstance, FastifyPluginAsync, RawServerDefault } from "fastify";

/** A route plugin taking `{ context }` (plain Fastify or the TypeBox type provider). */
export type RoutePlugin<C> = FastifyPluginAsync<{ context: C }, RawServerDefault, any>;

export async function registerRoutes<C>(app: FastifyInstance, context: C, plugins: readonly RoutePlugin<C>[]): Promise<void> {
  for (const plugin of plugins) await app.register(plugin, { context });
}
