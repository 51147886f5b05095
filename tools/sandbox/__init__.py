"""The sandbox: a local Kubernetes control plane with a Welkin-like tenant namespace.

``make sandbox`` (``python tools/sandbox``) and the end-to-end tests start the same code:
``controlplane.ControlPlane``. ``kubeapi`` is its small HTTPS client.
"""
