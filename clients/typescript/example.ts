// Compiled by `npm run typecheck` (never run): the client's types in use.
import { createRunwayClient, openEvents, type Media } from "./src/index.ts";

let token: string | undefined;
const runway = createRunwayClient({
  baseUrl: "http://127.0.0.1:8080",
  accessToken: () => token,
});

export async function signUpAndUpload(photo: Blob): Promise<Media | undefined> {
  const { data: session, error } = await runway.POST("/v1/auth/register", {
    body: { email: "ada@example.com", password: "correct horse battery" },
  });
  if (error) {
    console.error(error.code, error.detail);
    return undefined;
  }
  token = session.access_token;

  const { data: grant } = await runway.POST("/v1/media/uploads", {
    body: { content_type: photo.type, bytes: photo.size },
  });
  if (!grant) return undefined;
  await fetch(grant.upload_url, {
    method: grant.method,
    headers: grant.headers,
    body: photo,
  });
  const { data: media } = await runway.POST("/v1/media/{id}/complete", {
    params: { path: { id: grant.media_id } },
  });

  const events = await openEvents(runway, "http://127.0.0.1:8080");
  events.addEventListener("media.ready", (e) => {
    const ready: { media: Media } = JSON.parse((e as MessageEvent).data);
    console.log(ready.media.variants["thumb"]?.url);
  });
  return media;
}
