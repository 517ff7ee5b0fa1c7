import { table } from './format.js';
import type { BenchRecord, BenchResults } from '../results/types.js';

/**
 * The README's GPU table: levit's WebGPU backend beside PyTorch (scripts/torch_reference.py) on the same card,
 * with published figures from other cards for scale. Published figures are data with their source, never measured here.
 */

/** LeViT paper (Graham et al., ICCV 2021), Table 3: PyTorch, BatchNorm fused, one V100, batch 2048 (1024 where 2048 does not fit). */
export const PAPER_V100_IMAGES_PER_SECOND: Readonly<Record<string, number>> = {
  levit_128s: 12880,
  levit_128: 9266,
  levit_192: 8601,
  levit_256: 6582,
  levit_384: 4165,
  efficientnet_b0: 4754,
  efficientnet_b1: 2882,
  efficientnet_b2: 2149,
  efficientnet_b3: 1272,
  deit_tiny_patch16_224: 3973,
  deit_small_patch16_224: 1932,
};

/**
 * timm's published benchmark, results/benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv (commit 5c33776a): PyTorch 2.4,
 * AMP, batch 1024, one RTX 4090, all at 224 px (EfficientNet-B1..B3 are left out: timm measured them at other sizes).
 */
export const TIMM_RTX4090_AMP_IMAGES_PER_SECOND: Readonly<Record<string, number>> = {
  levit_128s: 28916,
  levit_128: 19082,
  levit_192: 16981,
  levit_256: 12507,
  levit_384: 7713,
  efficientnet_b0: 8926,
  deit_tiny_patch16_224: 17674,
  deit_small_patch16_224: 7688,
};

export const WEBGPU_BACKEND = 'ort-webgpu';
export const TORCH_BACKEND = 'torch-cuda';

export interface GpuRow {
  model: string;
  resolution: number;
  batch: number;
  webgpu: number | null;
  torch_fp32: number | null;
  torch_amp: number | null;
  /** levit WebGPU ÷ PyTorch, same card, same batch. */
  ratio_fp32: number | null;
  ratio_amp: number | null;
  paper_v100: number | null;
  timm_rtx4090_amp: number | null;
}

export interface GpuTable {
  rows: GpuRow[];
  webgpu_device: string | null;
  torch_device: string | null;
  torch_version: string | null;
  /** Whether PyTorch's device name appears in the adapter name levit recorded: the evidence for "same card". */
  same_card: boolean;
}

const ratio = (a: number | null, b: number | null) => (a !== null && b !== null && b > 0 ? a / b : null);

export function gpuTable(files: readonly BenchResults[]): GpuTable {
  const records = files.flatMap((f) => f.records);
  const find = (model: string, batch: number, backend: string, precision: BenchRecord['precision']) =>
    records.find((r) => r.model === model && r.batch === batch && r.backend === backend && r.precision === precision)?.images_per_second ?? null;
  const measured = records.filter((r) => r.backend === WEBGPU_BACKEND || r.backend === TORCH_BACKEND);
  const keys = [...new Map(measured.map((r) => [`${r.model} ${r.batch}`, { model: r.model, batch: r.batch, resolution: r.resolution }])).values()];
  const models = [...new Set(keys.map((k) => k.model))];
  keys.sort((a, b) => models.indexOf(a.model) - models.indexOf(b.model) || a.batch - b.batch);
  const largest = (model: string) => Math.max(...keys.filter((k) => k.model === model).map((k) => k.batch));
  const rows = keys.map(({ model, batch, resolution }): GpuRow => {
    // Published figures were taken at batch 1024-2048: shown once per model, beside its largest measured batch.
    const published = batch === largest(model);
    const webgpu = find(model, batch, WEBGPU_BACKEND, 'fp32');
    const torchFp32 = find(model, batch, TORCH_BACKEND, 'fp32');
    const torchAmp = find(model, batch, TORCH_BACKEND, 'amp');
    return {
      model,
      resolution,
      batch,
      webgpu,
      torch_fp32: torchFp32,
      torch_amp: torchAmp,
      ratio_fp32: ratio(webgpu, torchFp32),
      ratio_amp: ratio(webgpu, torchAmp),
      paper_v100: published ? (PAPER_V100_IMAGES_PER_SECOND[model] ?? null) : null,
      timm_rtx4090_amp: published ? (TIMM_RTX4090_AMP_IMAGES_PER_SECOND[model] ?? null) : null,
    };
  });
  const webgpuDevice = measured.find((r) => r.backend === WEBGPU_BACKEND)?.device ?? null;
  const torchRecord = measured.find((r) => r.backend === TORCH_BACKEND);
  const torchDevice = torchRecord?.device ?? null;
  return {
    rows,
    webgpu_device: webgpuDevice,
    torch_device: torchDevice,
    torch_version: torchRecord?.backend_version ?? null,
    same_card: !!(webgpuDevice && torchDevice && webgpuDevice.toLowerCase().includes(torchDevice.toLowerCase())),
  };
}

const HEAD = [
  'model',
  'px',
  'batch',
  'levit WebGPU fp32',
  'PyTorch fp32',
  'WebGPU ÷ PyTorch fp32',
  'PyTorch AMP',
  'WebGPU ÷ PyTorch AMP',
  'paper V100',
  'timm RTX 4090 AMP',
];

function cells(r: GpuRow): string[] {
  // Small figures keep their digits: lavapipe rehearsals give images/s below 1 and ratios below 0.01.
  const ips = (x: number | null) => (x === null ? '-' : x < 100 ? x.toFixed(1) : Math.round(x).toLocaleString('en-US'));
  const times = (x: number | null) => (x === null ? '-' : `${x >= 0.1 ? x.toFixed(2) : x.toPrecision(2)}×`);
  const measured = [ips(r.webgpu), ips(r.torch_fp32), times(r.ratio_fp32), ips(r.torch_amp), times(r.ratio_amp)];
  return [r.model, String(r.resolution), String(r.batch), ...measured, ips(r.paper_v100), ips(r.timm_rtx4090_amp)];
}

function footer(t: GpuTable): string[] {
  const card = t.same_card
    ? `Same card: levit's WebGPU adapter is ${t.webgpu_device}; PyTorch ${t.torch_version ?? '?'} ran on ${t.torch_device}.`
    : `Not shown to be the same card: levit's WebGPU adapter is ${t.webgpu_device ?? 'not recorded'}, ` +
      `PyTorch's device is ${t.torch_device ?? 'not recorded'}; compare the ratios with care.`;
  return [
    'Images/s from the median batch time. PyTorch: timm models with random weights, eager, channels_last; AMP = autocast float16.',
    card,
    'Paper V100: LeViT paper Table 3 (PyTorch, BatchNorm fused, batch 2048 or 1024; EfficientNet-B1/B2/B3 at 240/260/300 px).',
    'timm RTX 4090: timm results/benchmark-infer-amp-nchw-pt240-cu124-rtx4090.csv (PyTorch 2.4, AMP, batch 1024, 224 px).',
  ];
}

export function renderGpuTable(t: GpuTable): string {
  const out = table(HEAD, ['left', ...HEAD.slice(1).map(() => 'right' as const)]);
  for (const r of t.rows) out.push(cells(r));
  return `${out.toString()}\n${footer(t).join('\n')}`;
}

export function renderGpuMarkdown(t: GpuTable): string {
  const lines = [
    `| ${HEAD.join(' | ')} |`,
    `| --- |${HEAD.slice(1)
      .map(() => ' ---: ')
      .join('|')}|`,
    ...t.rows.map((r) => `| ${cells(r).join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n\n${footer(t).join('  \n')}\n`;
}
