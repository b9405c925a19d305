"use client";

import { Download } from "lucide-react";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";

function download(path: string, content: string) {
  const url = URL.createObjectURL(new Blob([content], { type: path.endsWith(".json") ? "application/json" : "application/yaml" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = path.split("/").at(-1) ?? path;
  a.click();
  URL.revokeObjectURL(url);
}

/** The commands and each installer file, with Copy and Download. */
export function InstallerFiles({ commands, files }: { commands: { label: string; text: string }[]; files: { path: string; content: string }[] }) {
  return (
    <div className="grid gap-4">
      <div className="grid gap-3" data-testid="installer-commands">
        {commands.map((c) => (
          <div key={c.label} className="grid gap-1">
            <div className="flex items-center justify-between gap-2">
              <span className="text-sm font-medium">{c.label}</span>
              <CopyButton value={c.text} label={`Copy ${c.label}`} />
            </div>
            <pre className="overflow-x-auto rounded-md bg-zinc-950 p-3 font-mono text-xs text-zinc-100">{c.text}</pre>
          </div>
        ))}
      </div>
      <div className="grid gap-3">
        {files.map((f) => (
          <details key={f.path} className="group rounded-md border border-zinc-200" data-testid="installer-file">
            <summary className="flex cursor-pointer flex-wrap items-center gap-2 px-3 py-2 text-sm">
              <code className="min-w-0 flex-1 font-mono text-xs break-all">{f.path}</code>
              <CopyButton value={f.content} label={`Copy ${f.path}`} onClickCapture={(e) => e.stopPropagation()} />
              <Button type="button" variant="outline" size="sm" aria-label={`Download ${f.path}`} onClick={() => download(f.path, f.content)}>
                <Download className="size-4" aria-hidden /> Download
              </Button>
            </summary>
            <pre className="max-h-96 overflow-auto border-t border-zinc-200 bg-zinc-950 p-3 font-mono text-xs text-zinc-100">{f.content}</pre>
          </details>
        ))}
      </div>
    </div>
  );
}
