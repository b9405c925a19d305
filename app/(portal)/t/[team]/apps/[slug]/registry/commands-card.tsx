import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { CopyButton } from "@/components/ui/copy-button";

/** A card of copyable shell lines: the registry's docker and helm commands. */
export function CommandsCard(props: { title: string; description: React.ReactNode; commands: string; testId: string; snippetTestId: string; copyLabel: string }) {
  return (
    <Card data-testid={props.testId}>
      <CardHeader>
        <CardTitle>{props.title}</CardTitle>
        <CardDescription>{props.description}</CardDescription>
      </CardHeader>
      <CardContent className="grid gap-2">
        <pre className="overflow-x-auto rounded-md bg-zinc-950 p-3 font-mono text-xs leading-relaxed whitespace-pre-wrap text-zinc-100 wrap-anywhere" data-testid={props.snippetTestId}>
          {props.commands}
        </pre>
        <div>
          <CopyButton value={props.commands} label={props.copyLabel} text="Copy" />
        </div>
      </CardContent>
    </Card>
  );
}
