// A typed client for runway's REST API.
//
// `schema.d.ts` is generated from the committed OpenAPI document
// (docs/openapi.json) by openapi-typescript (`npm run generate`);
// `npm run check` fails when it is stale. Requests and responses are
// checked against it at compile time; openapi-fetch does the calls.

import createClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema.d.ts";

export type { components, paths };
export type Media = components["schemas"]["MediaView"];
export type Problem = components["schemas"]["Problem"];

export interface RunwayOptions {
  /// Where runway serves its API, e.g. `https://api.example.com`.
  baseUrl: string;
  /// The current access token (called before every request, so a refreshed
  /// token is picked up); omit for anonymous calls.
  accessToken?: () => string | undefined;
  fetch?: typeof fetch;
}

/// A client whose paths, parameters, bodies and responses are typed from
/// runway's OpenAPI document. Errors come back as `{ error: Problem }`.
export function createRunwayClient(options: RunwayOptions): Client<paths> {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/$/, ""),
    fetch: options.fetch,
  });
  const auth: Middleware = {
    onRequest({ request }) {
      const token = options.accessToken?.();
      if (token && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
  client.use(auth);
  return client;
}

/// Open the signed-in user's event stream (`GET /v1/events`) with a ticket,
/// as browsers must (EventSource cannot send headers).
export async function openEvents(
  client: Client<paths>,
  baseUrl: string,
): Promise<EventSource> {
  const { data, error } = await client.POST("/v1/events/tickets");
  if (error || !data) {
    throw new Error(`event ticket refused: ${error?.code ?? "unknown"}`);
  }
  const url = `${baseUrl.replace(/\/$/, "")}/v1/events?ticket=${encodeURIComponent(data.ticket)}`;
  return new EventSource(url);
}
