"""Compare: the same filled-in prompt on two or three models at once, side by side (answer,
tokens, latency, estimated cost). Each call is recorded like any other."""

from concurrent.futures import ThreadPoolExecutor

from services.access.caller_checks import require_claude
from services.access.users import UserView
from services.claude import usage
from services.errors import InvalidInput
from services.prompts import calls, sources, templates
from services.prompts.calls import CallResult

FEATURE = "prompt.compare"
MIN_MODELS, MAX_MODELS = 2, 3


def compare_on_item(actor: UserView, template_id: int, item_id: int,
                    models: list[str]) -> list[CallResult]:
    caller = require_claude(actor=actor)
    chosen = list(dict.fromkeys(m for m in models if m))
    if not MIN_MODELS <= len(chosen) <= MAX_MODELS:
        raise InvalidInput("Pick two or three different models to compare.")
    version = templates.get_version(caller, template_id)
    templates.check_variables(version.body, sources.ITEM_VARIABLES)
    values = sources.item_inputs(caller, [item_id])[0].values
    usage.check_budget(caller.username)
    with ThreadPoolExecutor(len(chosen)) as pool:
        return list(pool.map(
            lambda model: calls.run_prompt(caller.username, version, values, feature=FEATURE,
                                           model=model), chosen))
