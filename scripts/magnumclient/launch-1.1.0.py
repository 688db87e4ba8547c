#!/usr/bin/env python3
"""Runs python-magnumclient 1.1.0 (Liberty) on Python 3 and a v3-only Keystone.

Changes nothing in the client: it fills in what a Python 2 / Keystone v2 world had.
- `main()` hands argparse a one-shot `map()` as argv (every command would print help):
  the module's `map` returns a list.
- The table printer calls the Python 2 builtin `unicode`: alias it to `str`.
- 1.1.0 logs in with user and project names only (Keystone v2 style); a v3 Keystone
  needs their domain: keystoneauth's `default_domain_name` supplies it
  (OS_DEFAULT_DOMAIN_NAME, else "Default").
"""
import builtins
import os
import sys

builtins.unicode = str

from keystoneauth1 import loading  # noqa: E402

import magnumclient.shell as shell  # noqa: E402

shell.map = lambda function, *iterables: list(builtins.map(function, *iterables))

_get_plugin_loader = loading.get_plugin_loader


class _DefaultDomain:
    """A password-plugin loader that adds the default domain to its options."""

    def __init__(self, inner):
        self._inner = inner

    def load_from_options(self, **options):
        options.setdefault("default_domain_name", os.environ.get("OS_DEFAULT_DOMAIN_NAME", "Default"))
        return self._inner.load_from_options(**options)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _get_plugin_loader_with_domain(name):
    inner = _get_plugin_loader(name)
    return _DefaultDomain(inner) if name == "password" else inner


loading.get_plugin_loader = _get_plugin_loader_with_domain

sys.exit(shell.main())
