export const LICENSE_TYPES = ["trial", "paid", "community", "dev"] as const;
export type LicenseType = (typeof LICENSE_TYPES)[number];

export const LICENSE_STATES = ["active", "expired", "revoked"] as const;
export type LicenseState = (typeof LICENSE_STATES)[number];
