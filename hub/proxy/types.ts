/**
 * The proxy's routing model and the hub's client seam. The control API is configurable-http-proxy's
 * (GET/POST/DELETE /api/routes[/<prefix>], `Authorization: token <secret>`), so either proxy can
 * serve a hub, and the same JSON shapes are used on both sides.
 */

export interface RouteData {
  /** `true` for the hub's default route. */
  hub?: boolean;
  user?: string;
  server_name?: string;
  [key: string]: unknown;
}

export interface Route {
  /** Scheme, host and port only; the request path is forwarded unchanged. */
  target: string;
  data: RouteData;
  /** ISO-8601 time of the last successful response or websocket frame through this route. */
  last_activity: string | null;
}

/** What the hub needs from a proxy. */
export interface ProxyClient {
  getRoutes(): Promise<Record<string, Route>>;
  addRoute(prefix: string, target: string, data: RouteData): Promise<void>;
  deleteRoute(prefix: string): Promise<void>;
}
