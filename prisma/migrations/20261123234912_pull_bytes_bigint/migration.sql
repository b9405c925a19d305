-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_PullEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "licenseId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "bytesSent" BIGINT NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "clientIp" TEXT,
    "userAgent" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PullEvent_licenseId_fkey" FOREIGN KEY ("licenseId") REFERENCES "License" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_PullEvent" ("appId", "bytesSent", "clientIp", "createdAt", "durationMs", "id", "kind", "licenseId", "method", "reference", "repository", "status", "teamId", "userAgent") SELECT "appId", "bytesSent", "clientIp", "createdAt", "durationMs", "id", "kind", "licenseId", "method", "reference", "repository", "status", "teamId", "userAgent" FROM "PullEvent";
DROP TABLE "PullEvent";
ALTER TABLE "new_PullEvent" RENAME TO "PullEvent";
CREATE INDEX "PullEvent_licenseId_createdAt_idx" ON "PullEvent"("licenseId", "createdAt");
CREATE INDEX "PullEvent_teamId_createdAt_idx" ON "PullEvent"("teamId", "createdAt");
CREATE INDEX "PullEvent_createdAt_idx" ON "PullEvent"("createdAt");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE INDEX "Invitation_status_expiresAt_idx" ON "Invitation"("status", "expiresAt");

