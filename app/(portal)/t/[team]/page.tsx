import { redirect } from "next/navigation";

export default async function TeamHome({ params }: { params: Promise<{ team: string }> }) {
  const { team } = await params;
  redirect(`/t/${team}/apps`);
}
