// Display names of the directory's resources (organizations/…, mediators/…),
// read once per page load and shared by every page.
import { reactive } from "vue";
import { api, call } from "../api/client";

const names = reactive(new Map<string, string>());
const pending = new Set<string>();

/** displayName is the resource's name for people, fetched on first use ("" while loading). */
export function displayName(resource: string | undefined): string {
  if (!resource) return "—";
  const known = names.get(resource);
  if (known !== undefined) return known;
  if (!pending.has(resource)) {
    pending.add(resource);
    void fetchName(resource).then((n) => names.set(resource, n), () => names.set(resource, resource.replace(/^[a-zA-Z]+\//, "")));
  }
  return resource.replace(/^[a-zA-Z]+\//, "");
}

async function fetchName(resource: string): Promise<string> {
  if (resource.startsWith("organizations/")) {
    const r = await call(api.GET("/v1/{name_3}", { params: { path: { name_3: resource } } }));
    return r.organization?.displayName ?? resource;
  }
  if (resource.startsWith("mediators/")) {
    const r = await call(api.GET("/v1/{name_4}", { params: { path: { name_4: resource } } }));
    return r.mediator?.displayName ?? resource;
  }
  return resource.replace(/^[a-zA-Z]+\//, "");
}

/** remember records names a list already gave (e.g. a suggestion's display names). */
export function remember(resource: string | undefined, display: string | undefined): void {
  if (resource && display) names.set(resource, display);
}
