// File URIs shown to people: workspace-relative where possible.

export function displayPath(uri: string, folderUris: readonly string[]): string {
  for (const folder of folderUris) {
    const prefix = folder.endsWith("/") ? folder : `${folder}/`;
    if (uri.startsWith(prefix)) return decodeURIComponent(uri.slice(prefix.length));
  }
  if (uri.startsWith("file://")) return decodeURIComponent(uri.slice("file://".length));
  return uri;
}
