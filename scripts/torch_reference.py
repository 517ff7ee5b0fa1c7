#!/usr/bin/env python3
"""PyTorch reference timings on CUDA, written as levit results (schema levit-bench/1, backend torch-cuda).

The same models and batches as `levit bench`, timed the way timm's benchmark.py times inference: timm models with
random weights (speed does not depend on weight values), eval mode, channels_last, eager float32 and AMP
(autocast to float16). Each timed batch is one synchronised forward pass; images/s come from the median batch
time, exactly as levit computes them, so `levit report --gpu` can put both side by side.

  python3 scripts/torch_reference.py --zoo zoo.json --models levit_128s,efficientnet_b0 --batch 1,16,256 --out torch.json

--zoo takes `levit zoo --json` (model ids, families, resolutions, exact counts, published top-1).
--dry-run writes the records without torch (timings are synthetic, labelled so) to check the format.
"""

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone

SCHEMA = 'levit-bench/1'
BACKEND = 'torch-cuda'
PRECISIONS = ('fp32', 'amp')


class UsageError(Exception):
    """Bad arguments: exit code 2, as levit's own usage errors."""


def positive_ints(text, flag):
    try:
        values = [int(s) for s in text.split(',') if s.strip()]
    except ValueError:
        raise UsageError(f'--{flag}: expected comma-separated positive integers, got {text!r}')
    if not values or any(v <= 0 for v in values):
        raise UsageError(f'--{flag}: expected comma-separated positive integers, got {text!r}')
    return values


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--zoo', required=True, help='the output of `levit zoo --json`')
    p.add_argument('--models', required=True, help='model ids, comma-separated (timm names; levit zoo lists them)')
    p.add_argument('--batch', default='1,16,256', help='batch sizes, comma-separated (default 1,16,256)')
    p.add_argument('--precision', default='fp32,amp', help='fp32 and/or amp (autocast float16), comma-separated')
    p.add_argument('--warmup', type=float, default=1.0, help='seconds of warm-up per configuration (at least one run)')
    p.add_argument('--duration', type=float, default=2.0, help='seconds of timed runs per configuration')
    p.add_argument('--min-iterations', type=int, default=5, help='timed batches at least')
    p.add_argument('--max-iterations', type=int, default=10000, help='timed batches at most')
    p.add_argument('--keep-going', action='store_true', help='skip a batch that fails (e.g. out of memory), saying why')
    p.add_argument('--out', required=True, help='results file to write (JSON, schema levit-bench/1)')
    p.add_argument('--dry-run', action='store_true', help='write records without torch (synthetic timings), to check the format')
    a = p.parse_args(argv)
    a.batches = positive_ints(a.batch, 'batch')
    a.precisions = [s.strip() for s in a.precision.split(',') if s.strip()]
    bad = [s for s in a.precisions if s not in PRECISIONS]
    if bad or not a.precisions:
        raise UsageError(f'--precision: expected fp32 and/or amp, got {a.precision!r}')
    if a.warmup < 0 or a.duration < 0 or a.min_iterations < 1 or a.max_iterations < a.min_iterations:
        raise UsageError('--warmup and --duration must be >= 0, and 1 <= --min-iterations <= --max-iterations')
    return a


def load_zoo(path, ids):
    try:
        with open(path, encoding='utf8') as f:
            entries = {e['id']: e for e in json.load(f)}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(f'--zoo {path}: not the output of `levit zoo --json` ({e})')
    unknown = [m for m in ids if m not in entries]
    if unknown:
        raise UsageError(f'--models: unknown model(s) {", ".join(unknown)}; known: {", ".join(entries)}')
    return [entries[m] for m in ids]


# Statistics: the same definitions as levit's src/stats/summary.ts (linear-interpolated percentiles).
def quantile(s, q):
    pos = (len(s) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def summarize(times):
    s = sorted(times)
    return {'mean': sum(s) / len(s), 'median': quantile(s, 0.5), 'p90': quantile(s, 0.9), 'p99': quantile(s, 0.99), 'min': s[0], 'max': s[-1]}


def spread(times):
    s = sorted(times)
    n = len(s)
    median = quantile(s, 0.5)
    half = 1.96 * math.sqrt(n) / 2
    lo = max(0, math.floor(n / 2 - half) - 1)
    hi = min(n - 1, math.ceil(n / 2 + half))
    return {'relative_iqr': (quantile(s, 0.75) - quantile(s, 0.25)) / median, 'median_ci95': [s[lo], s[hi]]}


def measure(step, a):
    """Warm up for a.warmup seconds (at least once), then time batches for a.duration seconds, within the iteration bounds."""
    start = time.perf_counter()
    warmup = 0
    while warmup == 0 or time.perf_counter() - start < a.warmup:
        step()
        warmup += 1
    times = []
    start = time.perf_counter()
    while len(times) < a.max_iterations and (len(times) < a.min_iterations or time.perf_counter() - start < a.duration):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    return warmup, times


def peak_rss_bytes():
    try:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    except ImportError:
        return 0


# As src/results/machine-id.ts: the flags that change inference speed, and the CPU kinds named from them.
SPEED_FLAGS = {'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx_vnni', 'amx_tile', 'amx_bf16',
               'amx_int8', 'neon', 'asimd', 'asimddp', 'sve', 'sve2', 'i8mm', 'bf16', 'fp16', 'asimdhp', 'dotprod'}
CPU_KINDS = [('amx', 'x64', {'amx_tile'}), ('avx512-vnni', 'x64', {'avx512_vnni'}), ('avx-vnni', 'x64', {'avx_vnni'}), ('avx512', 'x64', {'avx512f'}),
             ('avx2', 'x64', {'avx2'}), ('avx', 'x64', {'avx'}), ('sve', 'arm64', {'sve', 'sve2'}), ('asimd-dot', 'arm64', {'asimddp', 'dotprod'}),
             ('neon', 'arm64', {'asimd', 'neon'})]


def cpu_kind(flags, arch):
    """The CPU's kind from its speed flags, as levit names it; None when no flags are known."""
    if not flags or arch not in ('x64', 'arm64'):
        return None
    for kind, kind_arch, wanted in CPU_KINDS:
        if kind_arch == arch and wanted & set(flags):
            return kind
    return 'sse' if arch == 'x64' else 'neon'


def system_fingerprint(gpus):
    """The fields of levit's SystemFingerprint; `id` is built the same way, so levit report sees one machine."""
    model, named = platform.processor() or 'unknown', False
    flags = []
    try:
        with open('/proc/cpuinfo', encoding='utf8') as f:
            for line in f:
                if line.startswith('model name') and not named:
                    model, named = line.split(':', 1)[1].strip(), True
                elif line.startswith(('flags', 'Features')) and not flags:
                    flags = sorted(set(line.split(':', 1)[1].split()) & SPEED_FLAGS)
    except OSError:
        pass
    cores = os.cpu_count() or 1
    arch = {'x86_64': 'x64', 'amd64': 'x64', 'aarch64': 'arm64', 'arm64': 'arm64'}.get(platform.machine().lower(), platform.machine())
    plat = sys.platform if sys.platform != 'win32' else 'win32'
    available = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else cores
    memory = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') if hasattr(os, 'sysconf') else 0
    return {
        'cpu': {'model': model, 'vendor': '', 'cores': cores, 'available_cores': available, 'physical_cores': cores, 'mhz': None, 'flags': flags},
        'memory_bytes': memory,
        'gpus': gpus,
        'os': {'platform': plat, 'distro': platform.platform(), 'release': platform.release(), 'kernel': platform.release(), 'arch': arch},
        'node': f'python {platform.python_version()}',
        'id': ' '.join(f'{model} {cpu_kind(flags, arch) or ""} x{cores} {arch} {plat}'.split()),
    }


class Runner:
    """Builds a model and times it at each batch; the torch one, or a synthetic one for --dry-run."""

    def __init__(self, dry_run):
        self.dry_run = dry_run
        if dry_run:
            self.version, self.device = 'dry-run (no torch)', 'dry-run: no GPU, synthetic timings'
            self.gpus = []
            return
        import torch
        import timm
        if not torch.cuda.is_available():
            raise RuntimeError('torch sees no CUDA device')
        self.torch, self.timm = torch, timm
        self.version = f'{torch.__version__} (timm {timm.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()})'
        self.device = torch.cuda.get_device_name(0)
        props = torch.cuda.get_device_properties(0)
        self.gpus = [{'vendor': 'NVIDIA', 'model': self.device, 'vram_mb': props.total_memory // (1024 * 1024)}]
        torch.backends.cudnn.benchmark = True

    def build(self, model_id):
        if self.dry_run:
            return None
        model = self.timm.create_model(model_id, pretrained=False).cuda().eval()
        return model.to(memory_format=self.torch.channels_last)

    def step(self, model, entry, batch, precision):
        """A function running one synchronised forward pass of one batch."""
        if self.dry_run:
            seconds = batch * entry['flops'] * 2 / 1e13
            return lambda: time.sleep(min(seconds, 0.001))
        torch = self.torch
        r = entry['resolution']
        x = torch.randn(batch, 3, r, r, device='cuda').contiguous(memory_format=torch.channels_last)

        def run():
            with torch.inference_mode(), torch.autocast('cuda', dtype=torch.float16, enabled=precision == 'amp'):
                model(x)
            torch.cuda.synchronize()

        return run

    def release(self):
        if not self.dry_run:
            self.torch.cuda.empty_cache()


def record(entry, runner, batch, precision, warmup, times, setup_seconds):
    latency = summarize(times)
    return {
        'model': entry['id'],
        'family': entry['family'],
        'backend': BACKEND,
        'backend_version': runner.version,
        'device': runner.device,
        'threads': 1,  # the GPU runs the model; one host thread drives it
        'batch': batch,
        'resolution': entry['resolution'],
        'precision': precision,
        'weights': 'timm-random-init',
        'weights_kind': 'synthetic',
        'params': entry['params'],
        'flops': entry['flops'],
        'published_top1': entry['published'][0]['top1'] if entry.get('published') else None,
        'setup_seconds': {'artifact': 0, 'artifact_cached': False, 'session': setup_seconds},
        'warmup_iterations': warmup,
        'iterations': len(times),
        'images_per_second': batch * 1000 / latency['median'],
        'latency_ms': latency,
        'spread': spread(times),
        'peak_rss_bytes': peak_rss_bytes(),
        'times_ms': times,
    }


def write_atomic(path, text):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.torch-reference-')
    try:
        with os.fdopen(fd, 'w', encoding='utf8') as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv):
    a = parse_args(argv)
    entries = load_zoo(a.zoo, [m.strip() for m in a.models.split(',') if m.strip()])
    runner = Runner(a.dry_run)
    records, skipped = [], []
    total = len(entries) * len(a.batches) * len(a.precisions)
    for entry in entries:
        t0 = time.perf_counter()
        model = runner.build(entry['id'])
        setup = time.perf_counter() - t0
        for precision in a.precisions:
            for batch in a.batches:
                label = f'[{len(records) + len(skipped) + 1}/{total}] {entry["id"]} {BACKEND} {precision} batch {batch}'
                print(f'{label}: warming up', file=sys.stderr, flush=True)
                try:
                    warmup, times = measure(runner.step(model, entry, batch, precision), a)
                except Exception as e:  # out of memory at the largest batches, typically
                    if not a.keep_going:
                        raise
                    reason = f'batch {batch} {precision} failed: {str(e).splitlines()[0] if str(e) else type(e).__name__}'
                    skipped.append({'model': entry['id'], 'backend': BACKEND, 'threads': 1, 'batch': batch, 'reason': reason})
                    print(f'note: {entry["id"]} {BACKEND} batch {batch}: skipped, {reason}', file=sys.stderr, flush=True)
                    runner.release()
                    continue
                r = record(entry, runner, batch, precision, warmup, times, setup)
                records.append(r)
                summary = f'{r["images_per_second"]:.1f} images/s, median {r["latency_ms"]["median"]:.2f} ms ({len(times)} runs)'
                print(f'{label}: {summary}', file=sys.stderr, flush=True)
        del model
        runner.release()
    results = {
        'schema': SCHEMA,
        'created': datetime.now(timezone.utc).isoformat().replace('+00:00', 'Z'),
        'levit_version': 'torch_reference.py',
        'system': system_fingerprint(runner.gpus),
        'calibration': None,
        'settings': {'warmup_seconds': a.warmup, 'duration_seconds': a.duration, 'min_iterations': a.min_iterations, 'max_iterations': a.max_iterations},
        'records': records,
        **({'skipped': skipped} if skipped else {}),
    }
    write_atomic(a.out, json.dumps(results, indent=1) + '\n')
    print(f'results: {a.out} ({len(records)} records, {len(skipped)} skipped)', file=sys.stderr)


if __name__ == '__main__':
    try:
        main(sys.argv[1:])
    except UsageError as e:
        print(f'error: {e}\nSee: python3 scripts/torch_reference.py --help', file=sys.stderr)
        sys.exit(2)
    except (ImportError, RuntimeError) as e:
        print(f'error: {e}\nThis script needs PyTorch with CUDA and timm; --dry-run checks the format without them.', file=sys.stderr)
        sys.exit(5)
