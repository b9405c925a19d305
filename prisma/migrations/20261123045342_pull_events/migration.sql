-- CreateTable
CREATE TABLE "PullEvent" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "teamId" TEXT NOT NULL,
    "appId" TEXT NOT NULL,
    "licenseId" TEXT NOT NULL,
    "repository" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "bytesSent" INTEGER NOT NULL,
    "durationMs" INTEGER NOT NULL,
    "clientIp" TEXT,
    "userAgent" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "PullEvent_licenseId_fkey" FOREIGN KEY ("licenseId") REFERENCES "License" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "PullEvent_licenseId_createdAt_idx" ON "PullEvent"("licenseId", "createdAt");

-- CreateIndex
CREATE INDEX "PullEvent_teamId_createdAt_idx" ON "PullEvent"("teamId", "createdAt");

