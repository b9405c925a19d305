/** "sha256:0123456789ab": enough to tell digests apart at a glance; the full one is on hover and copy. */
export const shortDigest = (digest: string) => digest.replace(/^(sha\d+:)([a-f0-9]{12})[a-f0-9]+$/, "$1$2");

/** A push time as the Registry tab shows it, in UTC. */
export const when = (d: Date) => `${d.toISOString().replace("T", " ").slice(0, 16)} UTC`;
