import type { Metadata } from "next";
import { connection } from "next/server";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Gantry", template: "%s · Gantry" },
  description: "Vendor portal and license-gated registry proxy for enterprise Kubernetes software.",
};

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  // Render every page per request, the not-found page included: Next puts the
  // Content-Security-Policy nonce (from proxy.ts) on its scripts only while
  // rendering a request; a page prerendered at build time would carry none and
  // its scripts would be blocked.
  await connection();
  return (
    <html lang="en">
      <body className="min-h-full font-sans">{children}</body>
    </html>
  );
}
