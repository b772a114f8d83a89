"""Walking jaxprs: the inner jaxpr of call-like equations (jit, custom_jvp/vjp, remat), for the
interpreters that evaluate or analyse a traced model equation by equation."""

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
