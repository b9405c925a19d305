"use client";

import { useEffect, useState } from "react";
import { Check, Copy } from "lucide-react";
import { Button, type ButtonProps } from "./button";

/**
 * Copies `value` to the clipboard and confirms for two seconds. `label` is the
 * accessible name; `text` (default: the label) is what the button shows.
 */
export function CopyButton({ value, label = "Copy", text, ...props }: Omit<ButtonProps, "onClick" | "value"> & { value: string; label?: string; text?: string }) {
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) return;
    const t = setTimeout(() => setCopied(false), 2000);
    return () => clearTimeout(t);
  }, [copied]);
  return (
    <Button
      type="button"
      variant="outline"
      size="sm"
      aria-label={copied ? "Copied" : label}
      onClick={async () => {
        await navigator.clipboard.writeText(value);
        setCopied(true);
      }}
      {...props}
    >
      {copied ? <Check className="size-4" aria-hidden /> : <Copy className="size-4" aria-hidden />}
      {copied ? "Copied" : (text ?? label)}
    </Button>
  );
}
