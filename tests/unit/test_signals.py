"""registry.core.signals: a lower domain calls a hook a higher one registered; a missing registration
fails loudly (docs/architecture.md "How a lower domain signals a higher one")."""
import pytest

from registry.core import signals


def test_an_unregistered_hook_raises():
    hook = signals.Hook("nobody_home", "for this test")
    with pytest.raises(signals.MissingHook, match="nobody_home"):
        hook(1)


def test_a_registered_hook_answers_and_has_one_owner():
    hook = signals.Hook("answer", "for this test")

    @hook.register
    def first(x):
        return x + 1

    assert hook(1) == 2 and hook.registered

    def second(x):
        return x

    with pytest.raises(RuntimeError, match="already registered"):
        hook.register(second)


def test_the_app_registers_every_declared_hook(app):
    hooks = [h for h in vars(signals).values() if isinstance(h, signals.Hook)]
    assert hooks and [h.name for h in hooks if not h.registered] == []
