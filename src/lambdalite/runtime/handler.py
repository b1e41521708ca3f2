"""Handler resolution, each failure named exactly as awslambdaric names it."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

from .errors import Fault

Handler = Callable[[Any, Any], Any]


def load_handler(name: str) -> Handler:
    """Import `module.func` (or `dir/module.func`) and return func. Raises Fault for the failures
    Lambda names (Runtime.*); any other exception raised by the module's own code propagates."""
    try:
        module_name, func_name = name.rsplit(".", 1)
    except ValueError as exc:
        raise Fault(Fault.MALFORMED_HANDLER_NAME, f"Bad handler '{name}': {exc}") from None
    module = _import(module_name)
    try:
        return getattr(module, func_name)  # type: ignore[no-any-return]
    except AttributeError:
        raise Fault(Fault.HANDLER_NOT_FOUND,
                    f"Handler '{func_name}' missing on module '{module_name}'") from None


def _import(module_name: str) -> Any:
    # The built-in check looks at the dotted form before slashes become dots: "dir/sys" is fine.
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(Fault.BUILT_IN_MODULE_CONFLICT,
                    f"Cannot use built-in module {module_name} as a handler module")
    try:
        return importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(Fault.IMPORT_MODULE_ERROR,
                    f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        # awslambdaric's one-element trace for a syntax error, byte for byte.
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault(Fault.USER_CODE_SYNTAX_ERROR,
                    f"Syntax error in module '{module_name}': {exc}", trace) from None
