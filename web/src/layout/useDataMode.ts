import { useEffect, useState } from 'preact/hooks';
import { dataMode, onDataModeChange, setDataMode, type DataMode } from '../api/mode';

/** The console's live/test choice, re-rendering whoever uses it when it changes. */
export function useDataMode(): [DataMode, (mode: DataMode) => void] {
  const [mode, setMode] = useState<DataMode>(dataMode());
  useEffect(() => onDataModeChange(setMode), []);
  return [mode, setDataMode];
}
