import { type FloatTensor, floatTensor } from '../../src/core/tensor.js';
import { seededRandom } from '../../src/util/random.js';

/**
 * Random DeiT weights in timm's layout, drawn as ../shared/golden/deit_tiny_mctf/mctf_golden.py draws them
 * (truncated normal cut at 2 sigma, gains relative to 1/sqrt(fan_in), LayerNorm near identity), from a
 * seeded generator: attention that is neither uniform nor one-hot and tokens that differ, so that token
 * fusion has real decisions to make (synthetic weights give near-uniform attention).
 */
export function randomVitWeights(o: { dim: number; depth: number; distilled: boolean; seed: number }): Map<string, FloatTensor> {
  const { dim: D, depth } = o;
  const uniform = seededRandom(o.seed);
  const normal = () => {
    for (;;) {
      const v = Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
      if (Math.abs(v) <= 2) return v;
    }
  };
  const w = new Map<string, FloatTensor>();
  const put = (name: string, shape: number[], std: number, mean = 0) => {
    const t = floatTensor(shape);
    for (let i = 0; i < t.data.length; i++) t.data[i] = mean + std * normal();
    w.set(name, t);
  };
  const gain = (g: number, fanIn: number) => g / Math.sqrt(fanIn);
  const tokens = o.distilled ? 2 : 1;
  put('cls_token', [1, 1, D], 0.5);
  if (o.distilled) put('dist_token', [1, 1, D], 0.5);
  put('pos_embed', [1, 196 + tokens, D], 0.3);
  put('patch_embed.proj.weight', [D, 3, 16, 16], gain(1, 3 * 16 * 16));
  put('patch_embed.proj.bias', [D], 0.02);
  for (let i = 0; i < depth; i++) {
    const p = `blocks.${i}.`;
    put(`${p}norm1.weight`, [D], 0.05, 1);
    put(`${p}norm1.bias`, [D], 0.02);
    put(`${p}attn.qkv.weight`, [3 * D, D], gain(1.2, D));
    put(`${p}attn.qkv.bias`, [3 * D], 0.02);
    put(`${p}attn.proj.weight`, [D, D], gain(0.6, D));
    put(`${p}attn.proj.bias`, [D], 0.02);
    put(`${p}norm2.weight`, [D], 0.05, 1);
    put(`${p}norm2.bias`, [D], 0.02);
    put(`${p}mlp.fc1.weight`, [4 * D, D], gain(1, D));
    put(`${p}mlp.fc1.bias`, [4 * D], 0.02);
    put(`${p}mlp.fc2.weight`, [D, 4 * D], gain(0.6, 4 * D));
    put(`${p}mlp.fc2.bias`, [D], 0.02);
  }
  put('norm.weight', [D], 0.05, 1);
  put('norm.bias', [D], 0.02);
  for (const head of o.distilled ? ['head', 'head_dist'] : ['head']) {
    put(`${head}.weight`, [1000, D], gain(1, D));
    put(`${head}.bias`, [1000], 0.02);
  }
  return w;
}
