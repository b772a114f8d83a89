"""Cross-check prunejax (Flax NNX) against Torch-Pruning on a small ViT.

Run from the repository root (a separate venv holds torch; the JAX side runs as a subprocess in .venv):

    python3 -m venv /tmp/tp_venv
    /tmp/tp_venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu torch
    /tmp/tp_venv/bin/pip install torch-pruning numpy
    /tmp/tp_venv/bin/python benchmarks/torch_pruning_vit_parity.py              # fused qkv
    ATTN=split /tmp/tp_venv/bin/python benchmarks/torch_pruning_vit_parity.py   # q/k/v Linears

(intermediate files go to $TP_PARITY_OUT, default a temporary directory; $JAX_PYTHON overrides the
repository's .venv/bin/python).

The same file is the JAX side: `PYTHONPATH=. .venv/bin/python benchmarks/torch_pruning_vit_parity.py
--jax-side OUTDIR` builds prunejax's `vit_tiny` (dim 32, depth 2, 4 heads,
head dim 8, MLP 64, patch 7 on 28x28x1, class token), overwrites every param with N(0, 0.5^2) numpy
draws, traces the groups and writes (to OUTDIR/*.npz, *.json) the params, logits on a fixed batch, and,
for every CASE below, the params/logits/attention attributes of `structure.shrink(model, keep, groups)`.

The torch side builds the same network in PyTorch (pre-LN, GELU-tanh, LayerNorm eps 1e-6, timm-style
fused `qkv` Linear + `proj` -- the attention Torch-Pruning's own examples/transformers/prune_timm_vit.py
prunes -- or, with ATTN='split', separate q/k/v Linears as in its HF-ViT example), loads the flax
weights, prunes the same index sets with `tp.DependencyGraph.get_pruning_group(...).prune()` and
compares every tensor (converted back to flax layout) and the logits.  Case 'heads_basepruner' instead
lets tp.pruner.BasePruner(prune_num_heads=True) pick the heads from a fixed importance.  Two 'TP quirk'
lines show what happens when num_heads is not fixed by hand and when a non-head-aligned index set is given.

Layouts: flax Dense kernel (in, out) = torch weight.T; flax MHA q/k/v kernel (in, heads, head_dim) ->
rows h*D+j of torch (qkv: row s*H*D + h*D + j, s in q,k,v); flax out kernel (heads, head_dim, out) ->
torch proj.weight (out, H*D); flax Conv kernel HWIO -> torch OIHW; flax q/k/v bias (heads, head_dim).
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAX_PY = os.environ.get('JAX_PYTHON', os.path.join(REPO, '.venv', 'bin', 'python'))
OUT = os.environ.get('TP_PARITY_OUT') or tempfile.mkdtemp(prefix='tp_parity_')
ATTN = os.environ.get('ATTN', 'fused')  # 'fused' (timm-style qkv) or 'split' (q, k, v Linears)

DIM, DEPTH, HEADS, MLP_RATIO, PATCH, CLASSES = 32, 2, 4, 2, 7, 10
HEAD_DIM, HIDDEN = DIM // HEADS, DIM * MLP_RATIO
SHAPE = (28, 28, 1)

# Channels REMOVED per case (block index -> indices).  'headdims' removes the same within-head position
# j from every head of a block (prunejax's ...query/kernel[2] group).
REMOVE_HEADS = {0: [1, 3], 1: [0]}
REMOVE_MLP = {0: [0, 5, 9, 17, 33, 63], 1: [2, 3, 40]}
REMOVE_STREAM = [1, 4, 7, 10, 20, 31]
REMOVE_HEADDIMS = {0: [2, 5]}
CASES = {
    'heads_mlp': dict(heads=REMOVE_HEADS, mlp=REMOVE_MLP),
    'heads_mlp_stream': dict(heads=REMOVE_HEADS, mlp=REMOVE_MLP, stream=REMOVE_STREAM),
    'headdims': dict(headdims=REMOVE_HEADDIMS),
    # Same heads, but chosen by TP's own head-pruning path (BasePruner(prune_num_heads=True)) fed a fixed
    # importance that scores exactly these heads lowest; the JAX side treats it as a plain heads case.
    'heads_basepruner': dict(heads=REMOVE_HEADS, via='BasePruner'),
}


def keep(size, removed):
  return [i for i in range(size) if i not in set(removed)]


# ------------------------------------------------------------------------------------------ JAX side
def jax_side(outdir):
  import jax
  import flax
  from flax import nnx
  from prunejax import models, structure

  def flat(model):
    out = {}
    for path, leaf in nnx.to_flat_state(nnx.state(model, nnx.Param)):
      out['/'.join(map(str, path))] = np.asarray(leaf.get_value() if hasattr(leaf, 'get_value') else leaf.value)
    return out

  model = models.create_model('vit_tiny', SHAPE, CLASSES, seed=0, dim=DIM, depth=DEPTH, heads=HEADS,
                              mlp_ratio=MLP_RATIO, patch=PATCH)
  graphdef, state = nnx.split(model)
  pure = nnx.to_pure_dict(state)
  rng = np.random.default_rng(0)
  pure = jax.tree.map(lambda a: (rng.normal(size=a.shape) * 0.5).astype(np.float32), pure)
  nnx.replace_by_pure_dict(state, pure)
  model = nnx.merge(graphdef, state)
  x = np.random.default_rng(1).normal(size=(8,) + SHAPE).astype(np.float32)
  groups = structure.trace_groups(model, x)
  names = {g.name for g in groups}

  np.savez(f'{outdir}/input.npz', x=x)
  np.savez(f'{outdir}/params_full.npz', **flat(model))
  np.save(f'{outdir}/logits_full.npy', np.asarray(model(x)))
  meta = {'versions': {'jax': jax.__version__, 'flax': flax.__version__},
          'groups': sorted(names), 'cases': {}}
  for case, spec in CASES.items():
    kp = {}
    for b, r in spec.get('heads', {}).items():
      kp[f'encoder/blocks/{b}/attention/query/kernel[1]'] = keep(HEADS, r)
    for b, r in spec.get('headdims', {}).items():
      kp[f'encoder/blocks/{b}/attention/query/kernel[2]'] = keep(HEAD_DIM, r)
    for b, r in spec.get('mlp', {}).items():
      kp[f'encoder/blocks/{b}/mlp_in/kernel'] = keep(HIDDEN, r)
    if 'stream' in spec:
      kp['patch_embedding/kernel'] = keep(DIM, spec['stream'])
    assert set(kp) <= names, set(kp) - names
    shrunk = structure.shrink(model, kp, groups)
    np.savez(f'{outdir}/params_{case}.npz', **flat(shrunk))
    np.save(f'{outdir}/logits_{case}.npy', np.asarray(shrunk(x)))
    meta['cases'][case] = [
        {k: getattr(blk.attention, k) for k in ('num_heads', 'head_dim', 'qkv_features', 'in_features', 'out_features')}
        for blk in shrunk.encoder.blocks]
  with open(f'{outdir}/meta.json', 'w') as f:
    json.dump(meta, f, indent=1)


# ---------------------------------------------------------------------------------------- torch side
def torch_side():
  import torch
  import torch.nn as nn
  import torch.nn.functional as F
  import torch_pruning as tp
  from importlib.metadata import version
  torch.set_num_threads(1)

  class Attention(nn.Module):
    """timm's Attention math; forward reshapes with -1 (as TP's prune_timm_vit.py example does)."""

    def __init__(self, dim, heads, split):
      super().__init__()
      self.num_heads, self.head_dim, self.split = heads, dim // heads, split
      if split:
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
      else:
        self.qkv = nn.Linear(dim, 3 * dim)
      self.proj = nn.Linear(dim, dim)

    def forward(self, x):
      b, n, _ = x.shape
      if self.split:
        q, k, v = (t.reshape(b, n, self.num_heads, self.head_dim).permute(0, 2, 1, 3)
                   for t in (self.q(x), self.k(x), self.v(x)))
      else:
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4).unbind(0)
      a = ((q * self.head_dim ** -0.5) @ k.transpose(-2, -1)).softmax(-1)
      return self.proj((a @ v).transpose(1, 2).reshape(b, n, -1))

  class Block(nn.Module):
    def __init__(self, dim, heads, hidden, split):
      super().__init__()
      self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
      self.attn = Attention(dim, heads, split)
      self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
      x = x + self.attn(self.norm1(x))
      return x + self.fc2(F.gelu(self.fc1(self.norm2(x)), approximate='tanh'))  # jax.nn.gelu default

  class ViT(nn.Module):
    def __init__(self, split):
      super().__init__()
      tokens = (SHAPE[0] // PATCH) * (SHAPE[1] // PATCH)
      self.patch_embed = nn.Conv2d(SHAPE[2], DIM, PATCH, stride=PATCH)
      self.cls_token = nn.Parameter(torch.zeros(1, 1, DIM))
      self.pos_embed = nn.Parameter(torch.zeros(1, tokens + 1, DIM))
      self.blocks = nn.ModuleList([Block(DIM, HEADS, HIDDEN, split) for _ in range(DEPTH)])
      self.norm = nn.LayerNorm(DIM, eps=1e-6)
      self.head = nn.Linear(DIM, CLASSES)

    def forward(self, x):  # x: NCHW
      x = self.patch_embed(x).flatten(2).transpose(1, 2)
      x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
      for blk in self.blocks:
        x = blk(x)
      return self.head(self.norm(x)[:, 0])

  T = lambda a: torch.tensor(np.asarray(a))

  def load(model, p):
    sd = {'patch_embed.weight': T(p['patch_embedding/kernel'].transpose(3, 2, 0, 1)),
          'patch_embed.bias': T(p['patch_embedding/bias']),
          'cls_token': T(p['encoder/class_token']), 'pos_embed': T(p['encoder/position']),
          'norm.weight': T(p['encoder/norm/scale']), 'norm.bias': T(p['encoder/norm/bias']),
          'head.weight': T(p['encoder/classifier/kernel'].T), 'head.bias': T(p['encoder/classifier/bias'])}
    for b in range(DEPTH):
      f, t = f'encoder/blocks/{b}/', f'blocks.{b}.'
      for fn, tn in (('attention_norm', 'norm1'), ('mlp_norm', 'norm2')):
        sd[t + tn + '.weight'], sd[t + tn + '.bias'] = T(p[f + fn + '/scale']), T(p[f + fn + '/bias'])
      for fn, tn in (('mlp_in', 'fc1'), ('mlp_out', 'fc2')):
        sd[t + tn + '.weight'], sd[t + tn + '.bias'] = T(p[f + fn + '/kernel'].T), T(p[f + fn + '/bias'])
      w = {s: p[f'{f}attention/{s}/kernel'] for s in ('query', 'key', 'value')}
      bias = {s: p[f'{f}attention/{s}/bias'] for s in w}
      w = {s: k.reshape(k.shape[0], -1).T for s, k in w.items()}  # (H*D, in)
      bias = {s: v.reshape(-1) for s, v in bias.items()}
      if ATTN == 'split':
        for s, tn in (('query', 'q'), ('key', 'k'), ('value', 'v')):
          sd[f'{t}attn.{tn}.weight'], sd[f'{t}attn.{tn}.bias'] = T(w[s]), T(bias[s])
      else:
        sd[t + 'attn.qkv.weight'] = T(np.concatenate([w['query'], w['key'], w['value']]))
        sd[t + 'attn.qkv.bias'] = T(np.concatenate([bias['query'], bias['key'], bias['value']]))
      o = p[f + 'attention/out/kernel']
      sd[t + 'attn.proj.weight'] = T(o.reshape(-1, o.shape[-1]).T)
      sd[t + 'attn.proj.bias'] = T(p[f + 'attention/out/bias'])
    model.load_state_dict(sd)

  def to_flax(model):
    """Torch params -> flax names and layouts (head count from the module's num_heads)."""
    g = lambda t: t.detach().numpy()
    p = {'patch_embedding/kernel': g(model.patch_embed.weight).transpose(2, 3, 1, 0),
         'patch_embedding/bias': g(model.patch_embed.bias),
         'encoder/class_token': g(model.cls_token), 'encoder/position': g(model.pos_embed),
         'encoder/norm/scale': g(model.norm.weight), 'encoder/norm/bias': g(model.norm.bias),
         'encoder/classifier/kernel': g(model.head.weight).T, 'encoder/classifier/bias': g(model.head.bias)}
    for b, blk in enumerate(model.blocks):
      f, a = f'encoder/blocks/{b}/', blk.attn
      p[f + 'attention_norm/scale'], p[f + 'attention_norm/bias'] = g(blk.norm1.weight), g(blk.norm1.bias)
      p[f + 'mlp_norm/scale'], p[f + 'mlp_norm/bias'] = g(blk.norm2.weight), g(blk.norm2.bias)
      p[f + 'mlp_in/kernel'], p[f + 'mlp_in/bias'] = g(blk.fc1.weight).T, g(blk.fc1.bias)
      p[f + 'mlp_out/kernel'], p[f + 'mlp_out/bias'] = g(blk.fc2.weight).T, g(blk.fc2.bias)
      h = a.num_heads
      if ATTN == 'split':
        ws = [(g(l.weight), g(l.bias)) for l in (a.q, a.k, a.v)]
      else:
        ws = list(zip(np.split(g(a.qkv.weight), 3), np.split(g(a.qkv.bias), 3)))
      for s, (w, bias) in zip(('query', 'key', 'value'), ws):
        p[f'{f}attention/{s}/kernel'] = w.T.reshape(w.shape[1], h, -1)
        p[f'{f}attention/{s}/bias'] = bias.reshape(h, -1)
      o = g(a.proj.weight)
      p[f + 'attention/out/kernel'] = o.T.reshape(h, -1, o.shape[0])
      p[f + 'attention/out/bias'] = g(a.proj.bias)
    return p

  def tensor_family(name):
    if '/attention/' in name and 'out/bias' not in name:
      return 'attention q/k/v/out'
    if 'mlp_in' in name or 'mlp_out/kernel' in name:
      return 'mlp_in/mlp_out'
    return 'stream-only (conv, tokens, norms, biases, classifier)'

  def compare(jp, tp_params):
    fams, bad = {}, []
    assert set(jp) == set(tp_params), set(jp) ^ set(tp_params)
    for k in sorted(jp):
      if jp[k].shape != tp_params[k].shape:
        bad.append(f'{k}: prunejax {jp[k].shape} vs torch {tp_params[k].shape}')
        continue
      d = float(np.max(np.abs(jp[k] - tp_params[k]))) if jp[k].size else 0.0
      fam = tensor_family(k)
      fams[fam] = max(fams.get(fam, 0.0), d)
    return fams, bad

  def graph(model, x):
    # cls_token / pos_embed are plain nn.Parameters: tell TP their channel axis is the last one.
    return tp.DependencyGraph().build_dependency(
        model, example_inputs=x, unwrapped_parameters=[(model.cls_token, 2), (model.pos_embed, 2)])

  def describe(group):
    touched = set()
    for dep, idxs in group:
      m = dep.target.module
      if isinstance(m, (nn.Module, nn.Parameter)) and not type(m).__name__.startswith('_'):
        nm = name_of.get(id(m), type(m).__name__)
        touched.add(f'{nm}.{dep.handler.__name__.replace("prune_", "")}[{len(idxs)}]')
    return sorted(touched)

  class FixedHeadImportance(tp.importance.Importance):
    """Per-channel score of the group's root (proj input): 0 on the heads to remove, 1 elsewhere."""

    def __init__(self, model, removed):
      self.by_proj = {model.blocks[b].attn.proj: r for b, r in removed.items()}

    def __call__(self, group):
      root = group[0].dep.target.module
      imp = torch.ones(group[0].dep.target.module.in_features if root in self.by_proj else len(group[0].idxs))
      for h in self.by_proj.get(root, []):
        imp[h * HEAD_DIM:(h + 1) * HEAD_DIM] = 0
      return imp

  def base_pruner_heads(model, x, removed):
    qkv = [blk.attn.q if ATTN == 'split' else blk.attn.qkv for blk in model.blocks]
    num_heads = {m: HEADS for blk in model.blocks
                 for m in ((blk.attn.q, blk.attn.k, blk.attn.v) if ATTN == 'split' else (blk.attn.qkv,))}
    pruner = tp.pruner.BasePruner(
        model, x, importance=FixedHeadImportance(model, removed), pruning_ratio=0.1,
        ignored_layers=[model.head], num_heads=num_heads, prune_num_heads=True, prune_head_dims=False,
        head_pruning_ratio_dict={model.blocks[b].attn: len(r) / HEADS for b, r in removed.items()},
        unwrapped_parameters=[(model.cls_token, 2), (model.pos_embed, 2)], round_to=1)
    notes = []
    for group in pruner.step(interactive=True):
      touched = describe(group)
      if any('attn.proj.in_channels' in t for t in touched):  # only head groups; skip the MLP/stream ones
        notes.append('BasePruner heads: ' + ', '.join(touched))
        group.prune()
    for blk, q in zip(model.blocks, qkv):  # manual, exactly as TP's prune_timm_vit.py example does
      blk.attn.num_heads = pruner.num_heads[q]
    return notes

  os.makedirs(OUT, exist_ok=True)
  env = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS='cpu')
  subprocess.run([JAX_PY, os.path.abspath(__file__), '--jax-side', OUT], check=True, env=env)
  meta = json.load(open(f'{OUT}/meta.json'))
  x_nhwc = np.load(f'{OUT}/input.npz')['x']
  x = torch.tensor(x_nhwc.transpose(0, 3, 1, 2))
  full = dict(np.load(f'{OUT}/params_full.npz'))
  logits_full_jax = np.load(f'{OUT}/logits_full.npy')

  print(f'torch {torch.__version__}  torch-pruning {version("torch-pruning")} (tp.__version__={tp.__version__})  '
        f'jax {meta["versions"]["jax"]}  flax {meta["versions"]["flax"]}  attention={ATTN}')
  model = ViT(ATTN == 'split').eval()
  load(model, full)
  with torch.no_grad():
    logits_full = model(x).numpy()
  fams, bad = compare(full, to_flax(model))
  assert not bad
  print(f'[unpruned] round-trip params max|d| {max(fams.values()):.1e}; max|logit| {np.abs(logits_full_jax).max():.3f}; '
        f'max|d logit| torch vs prunejax {np.abs(logits_full - logits_full_jax).max():.2e}')

  # Quirks: (a) TP prunes the tensors but leaves num_heads/head_dim, so the forward breaks until they are
  # fixed by hand; (b) the DependencyGraph has no notion of heads and accepts any index set on proj's input.
  for label, idxs in (('whole head 1, num_heads not fixed', list(range(8, 16))),
                      ('non-head-aligned idxs [0, 9, 17]', [0, 9, 17])):
    m = ViT(ATTN == 'split').eval()
    load(m, full)
    g = graph(m, x).get_pruning_group(m.blocks[0].attn.proj, tp.prune_linear_in_channels, idxs=idxs)
    g.prune()
    try:
      with torch.no_grad():
        m(x)
      msg = 'forward runs'
    except RuntimeError as e:
      msg = 'forward fails: ' + str(e).split('\n')[0][:90]
    print(f'[TP quirk] {label}: TP accepted it (proj.in_features={m.blocks[0].attn.proj.in_features}); {msg}')

  for case, spec in CASES.items():
    model = ViT(ATTN == 'split').eval()
    load(model, full)
    global name_of
    name_of = {id(m): n for n, m in model.named_modules()}
    name_of.update({id(p): n for n, p in model.named_parameters()})
    notes = []
    # heads: remove whole heads = channels h*D..h*D+D-1 of proj's input; TP maps them through the
    # reshape/permute/unbind to q, k and v rows (fused qkv: j, j+DIM, j+2*DIM).
    if spec.get('via') == 'BasePruner':
      notes += base_pruner_heads(model, x, spec['heads'])
    for b, r in ({} if spec.get('via') else spec.get('heads', {})).items():
      blk = model.blocks[b]
      idxs = [h * HEAD_DIM + j for h in r for j in range(HEAD_DIM)]
      group = graph(model, x).get_pruning_group(blk.attn.proj, tp.prune_linear_in_channels, idxs=idxs)
      notes.append(f'heads b{b}: ' + ', '.join(describe(group)))
      group.prune()
      blk.attn.num_heads -= len(r)  # manual: TP does not touch the module's num_heads
    for b, r in spec.get('headdims', {}).items():
      blk = model.blocks[b]
      idxs = [h * HEAD_DIM + j for h in range(HEADS) for j in r]
      group = graph(model, x).get_pruning_group(blk.attn.proj, tp.prune_linear_in_channels, idxs=idxs)
      notes.append(f'headdims b{b}: ' + ', '.join(describe(group)))
      group.prune()
      blk.attn.head_dim -= len(r)  # manual (and the 1/sqrt(head_dim) scale follows it in our forward)
    for b, r in spec.get('mlp', {}).items():
      group = graph(model, x).get_pruning_group(model.blocks[b].fc1, tp.prune_linear_out_channels, idxs=list(r))
      notes.append(f'mlp b{b}: ' + ', '.join(describe(group)))
      group.prune()
    if 'stream' in spec:
      group = graph(model, x).get_pruning_group(model.patch_embed, tp.prune_conv_out_channels,
                                                idxs=list(spec['stream']))
      notes.append('stream: ' + ', '.join(describe(group)))
      group.prune()
    with torch.no_grad():
      logits_tp = model(x).numpy()
    zeroed = None
    if 'stream' not in spec and 'headdims' not in spec:  # removing heads/units == zeroing them (exact)
      ref = ViT(ATTN == 'split').eval()
      load(ref, full)
      with torch.no_grad():
        for b, r in spec.get('heads', {}).items():
          for h in r:
            ref.blocks[b].attn.proj.weight[:, h * HEAD_DIM:(h + 1) * HEAD_DIM] = 0
        for b, r in spec.get('mlp', {}).items():
          ref.blocks[b].fc2.weight[:, r] = 0
        zeroed = np.abs(ref(x).numpy() - logits_tp).max()
    n_full, n_pruned = sum(v.size for v in full.values()), sum(v.size for v in np.load(f'{OUT}/params_{case}.npz').values())
    jp = dict(np.load(f'{OUT}/params_{case}.npz'))
    logits_pj = np.load(f'{OUT}/logits_{case}.npy')
    fams, bad = compare(jp, to_flax(model))
    print(f'\n[{case}] removed {spec}')
    for n in notes:
      print('  TP group', n)
    print('  prunejax attention attrs:', meta['cases'][case])
    print('  torch attn attrs:', [dict(num_heads=b.attn.num_heads, head_dim=b.attn.head_dim) for b in model.blocks])
    for fam, d in fams.items():
      print(f'  max|d| {fam}: {d:.1e}')
    for msg in bad:
      print('  SHAPE MISMATCH', msg)
    print(f'  params {n_full} -> {n_pruned} (prunejax), {sum(p.numel() for p in model.parameters())} (TP)'
          + ('' if zeroed is None else f'; TP pruned vs unpruned-with-those-channels-zeroed max|d logit| {zeroed:.1e}'))
    print(f'  logits: max|prunejax - TP| {np.abs(logits_pj - logits_tp).max():.2e}; '
          f'max|pruned - unpruned| prunejax {np.abs(logits_pj - logits_full_jax).max():.3f}, '
          f'TP {np.abs(logits_tp - logits_full).max():.3f}')


name_of = {}

if __name__ == '__main__':
  if len(sys.argv) > 2 and sys.argv[1] == '--jax-side':
    jax_side(sys.argv[2])
  else:
    torch_side()
