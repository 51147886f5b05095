"""jhub-ck8s: make the JupyterHub Helm chart admissible on Compliant Kubernetes (Welkin)."""

__version__ = "0.1.0"
