import { useRef, useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { createImport } from "../../api/endpoints";
import type { ImportRun, Instrument } from "../../api/types";
import { TIMEFRAMES } from "../../chart/candles";
import { IMPORT_FORMATS } from "../../data/imports";
import { toApiError } from "../risk/LimitsEditor";
import { Field } from "../strategies/FormFields";

const FORMAT_LABELS: Record<string, string> = {
  mt5: "MetaTrader 5 export",
  histdata: "HistData",
  dukascopy: "Dukascopy",
  generic: "Generic CSV",
};

interface Props {
  instruments: Instrument[];
  onQueued: (run: ImportRun) => void;
}

/** Upload a history file (ticks or bars) for one symbol; the server detects the format unless told. */
export function ImportForm({ instruments, onQueued }: Props) {
  const [file, setFile] = useState<File | null>(null);
  const [symbol, setSymbol] = useState("");
  const [timeframe, setTimeframe] = useState("");
  const [format, setFormat] = useState("");
  const [tz, setTz] = useState("");
  const fileInput = useRef<HTMLInputElement>(null);
  const chosenSymbol = symbol || (instruments.some((i) => i.symbol === "EURUSD") ? "EURUSD" : (instruments[0]?.symbol ?? ""));

  const mutation = useMutation({
    mutationFn: () =>
      createImport({ file: file!, symbol: chosenSymbol, timeframe: timeframe || undefined, format: format || undefined, tz: tz.trim() || undefined }),
    onSuccess: (run) => {
      setFile(null);
      if (fileInput.current) fileInput.current.value = "";
      onQueued(run);
    },
  });
  const error = mutation.isError ? toApiError(mutation.error) : null;
  const errors = (field: string) => error?.fieldErrors(field) ?? [];
  const fieldNames = new Set(Object.keys(error?.fields ?? {}));
  const general = error && !["file", "symbol", "timeframe", "format", "tz"].some((f) => fieldNames.has(f));

  function submit(event: FormEvent) {
    event.preventDefault();
    if (!file || !chosenSymbol || mutation.isPending) return;
    mutation.mutate();
  }

  return (
    <section className="card data-import-card" aria-labelledby="import-form-title">
      <header className="card-header">
        <h2 id="import-form-title">Import history</h2>
        <span className="card-meta" title="MT5, HistData, Dukascopy or CSV exports of ticks or bars">ticks or bars</span>
      </header>
      <form className="bt-form" onSubmit={submit} data-testid="import-form" noValidate>
        <div className="bt-grid">
          <Field prefix="imp" label="File" id="imp-file" errors={errors("file")} errorKey="file" span={6}>
            <input
              ref={fileInput}
              id="imp-file"
              type="file"
              className="input input-sm"
              accept=".csv,.txt,.tsv,text/csv,text/plain"
              onChange={(e) => {
                setFile(e.target.files?.[0] ?? null);
                mutation.reset();
              }}
              data-testid="import-file"
            />
          </Field>
          <Field prefix="imp" label="Symbol" id="imp-symbol" errors={errors("symbol")} errorKey="symbol" span={3}>
            <select id="imp-symbol" className="input input-sm" value={chosenSymbol} onChange={(e) => setSymbol(e.target.value)} data-testid="import-symbol">
              {instruments.map((i) => (
                <option key={i.symbol} value={i.symbol}>
                  {i.symbol}
                </option>
              ))}
            </select>
          </Field>
          <Field
            prefix="imp"
            label="Timeframe"
            hint="bar files"
            id="imp-timeframe"
            errors={errors("timeframe")}
            errorKey="timeframe"
            span={3}
          >
            <select id="imp-timeframe" className="input input-sm" value={timeframe} onChange={(e) => setTimeframe(e.target.value)} data-testid="import-timeframe">
              <option value="">— (ticks)</option>
              {TIMEFRAMES.map((tf) => (
                <option key={tf} value={tf}>
                  {tf}
                </option>
              ))}
            </select>
          </Field>
          <Field prefix="imp" label="Format" id="imp-format" errors={errors("format")} errorKey="format" span={3}>
            <select id="imp-format" className="input input-sm" value={format} onChange={(e) => setFormat(e.target.value)} data-testid="import-format">
              <option value="">Detect</option>
              {IMPORT_FORMATS.map((f) => (
                <option key={f} value={f}>
                  {FORMAT_LABELS[f] ?? f}
                </option>
              ))}
            </select>
          </Field>
          <Field
            prefix="imp"
            label="Time zone"
            hint="of the file's times"
            id="imp-tz"
            errors={errors("tz")}
            errorKey="tz"
            span={3}
            title="IANA name (Europe/Helsinki) or offset (+02:00); empty: the format's own (UTC for most)"
          >
            <input
              id="imp-tz"
              className="input input-sm"
              placeholder="format's default"
              value={tz}
              maxLength={64}
              onChange={(e) => setTz(e.target.value)}
              data-testid="import-tz"
            />
          </Field>
        </div>
        {general && (
          <div className="alert alert-error compact" role="alert" data-testid="import-error">
            {error.message}
          </div>
        )}
        <button
          type="submit"
          className="btn btn-primary btn-block bt-submit"
          disabled={!file || !chosenSymbol || mutation.isPending}
          data-testid="import-submit"
        >
          {mutation.isPending ? "Uploading…" : file ? `Import ${file.name}` : "Choose a file"}
        </button>
      </form>
    </section>
  );
}
