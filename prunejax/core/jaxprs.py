"""Walking jaxprs: the inner jaxpr of call-like equations (jit, custom_jvp/vjp, remat), for the
interpreters that evaluate or analyse a traced model equation by equation."""

import jax
from jax.extend import core as jex_core

CALLS = {'pjit': 'jaxpr', 'jit': 'jaxpr', 'closed_call': 'call_jaxpr', 'core_call': 'call_jaxpr',
         'custom_jvp_call': 'call_jaxpr', 'custom_vjp_call': 'call_jaxpr',
         'custom_vjp_call_jaxpr': 'fun_jaxpr', 'remat': 'jaxpr', 'checkpoint': 'jaxpr'}


def called_jaxpr(eqn) -> tuple[jex_core.Jaxpr, list] | None:
  """(inner jaxpr, its consts) of a call-like equation (jit, custom_jvp/vjp, remat), else None."""
  name = eqn.primitive.name
  if name not in CALLS and (not any(k in eqn.params for k in ('call_jaxpr', 'jaxpr'))
                            or name in ('while', 'cond', 'scan')):
    return None
  closed = eqn.params.get(CALLS.get(name, 'jaxpr')) or eqn.params.get('call_jaxpr')
  if hasattr(closed, 'jaxpr'):
    return closed.jaxpr, list(closed.consts)
  return closed, []


def evaluate_with(fn, rewrite):
  """``fn`` evaluated equation by equation from its jaxpr, with ``rewrite(eqn, values, is_constant)``
  given the first say on each equation: a list of outputs replaces the primitive, None keeps it. Calls
  (jit, custom_jvp/vjp, remat) are entered, so the rewrite reaches inside them."""

  def evaluate(*args):
    closed, shapes = jax.make_jaxpr(fn, return_shape=True)(*args)
    outputs = _evaluate(closed.jaxpr, closed.consts, jax.tree.leaves(args), rewrite)
    return jax.tree.unflatten(jax.tree.structure(shapes), outputs)

  return evaluate


def _evaluate(jaxpr, consts, inputs, rewrite):
  env = dict(zip(jaxpr.constvars, consts)) | dict(zip(jaxpr.invars, inputs))
  read = lambda v: v.val if isinstance(v, jex_core.Literal) else env[v]
  is_constant = lambda v: isinstance(v, jex_core.Literal) or v in jaxpr.constvars
  for eqn in jaxpr.eqns:
    values = [read(v) for v in eqn.invars]
    called = called_jaxpr(eqn)
    if called is not None:
      outputs = _evaluate(called[0], called[1], values, rewrite)
    else:
      outputs = rewrite(eqn, values, is_constant)
      if outputs is None:
        result = eqn.primitive.bind(*values, **eqn.params)
        outputs = result if eqn.primitive.multiple_results else [result]
    env.update(zip(eqn.outvars, outputs))
  return [read(v) for v in jaxpr.outvars]
