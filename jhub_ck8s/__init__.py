"""jhub-ck8s: make the JupyterHub Helm chart admissible on Compliant Kubernetes (Welkin)."""

__version__ = "0.1.0"
# The apiVersion of every document the project writes or reads (in-stream settings, image
# inventory, lock file): an API group no cluster serves, so if the post-renderer were ever
# skipped, the API server rejects the settings document instead of silently deploying an
# unhardened release.
API_VERSION = "jhub-ck8s.io/v1alpha1"


def _spare_pyyaml_a_unicode_class() -> None:
    """Let PyYAML's import skip compiling a character class that spans all of Unicode.

    ``yaml.reader`` compiles ``Reader.NON_PRINTABLE`` when PyYAML is imported: about
    15 ms, a third of the post-renderer's own start-up (Helm starts it on every call),
    for a pattern only PyYAML's pure-Python reader uses; we parse with libyaml. The same
    set of characters, written as its small complement, compiles in a fraction of that.
    It is put into ``re``'s cache under PyYAML's exact pattern, so PyYAML's
    ``re.compile`` returns it. Should ``re`` ever key its cache differently, this does
    nothing and PyYAML compiles its own. ``tests/test_startup.py`` checks that both
    patterns match exactly the same code points.
    """
    import re
    import sys

    cache = getattr(re, "_cache", None)
    if "yaml" in sys.modules or not isinstance(cache, dict):
        return
    pyyaml = "[^\x09\x0A\x0D\x20-\x7E\x85\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]"
    complement = "[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uD800-\uDFFF\uFFFE\uFFFF]"
    cache.setdefault((str, pyyaml, 0), re.compile(complement))


_spare_pyyaml_a_unicode_class()
del _spare_pyyaml_a_unicode_class
