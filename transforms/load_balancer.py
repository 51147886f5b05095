"""Turn ``type: LoadBalancer`` Services into ClusterIP (the platform rejects LoadBalancer).

z2jh renders ``Service/proxy-public`` as a LoadBalancer by default
(``proxy.service.type``). Guarantees, with ``loadBalancer: clusterip`` (the default):

* no Service of the output has ``spec.type: LoadBalancer``; each one is turned into
  ``ClusterIP`` and loses the fields the API only accepts on LoadBalancer/NodePort
  Services (``loadBalancerIP``, ``loadBalancerSourceRanges``, ``loadBalancerClass``,
  ``allocateLoadBalancerNodePorts``, ``externalTrafficPolicy``,
  ``healthCheckNodePort``, and every port's ``nodePort``), so the result stays valid;
* everything else about the Service (selector, ports, annotations) is kept.

With ``loadBalancer: error`` nothing is changed and each such Service is an error
(rule ``load-balancer``) naming the chart value to set.

Before::

    kind: Service
    spec: {type: LoadBalancer, loadBalancerSourceRanges: [10.0.0.0/8],
           ports: [{name: http, port: 80, nodePort: 30080}]}

After::

    kind: Service
    spec: {type: ClusterIP, ports: [{name: http, port: 80}]}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from jhub_ck8s.report import CHANGE, ERROR, Finding

if TYPE_CHECKING:
    from jhub_ck8s.documents import Document
    from jhub_ck8s.settings import Settings
    from jhub_ck8s.stream import Stream

ID = "load-balancer"
RULE = "load-balancer"

# Fields the API server rejects (or that are meaningless) on a ClusterIP Service.
_EXTERNAL_ONLY = (
    "loadBalancerIP",
    "loadBalancerSourceRanges",
    "loadBalancerClass",
    "allocateLoadBalancerNodePorts",
    "externalTrafficPolicy",
    "healthCheckNodePort",
)
# z2jh 4.4.0: Service name -> the chart value that sets its type.
_CHART_VALUES = {"proxy-public": "proxy.service.type", "hub": "hub.service.type"}
_EXPOSE = "expose the hub through an Ingress (ingress.enabled: true) instead"


def _chart_value(doc: Document) -> str:
    return _CHART_VALUES.get(doc.name, "the chart value that sets this Service's type")


def apply(stream: Stream, settings: Settings) -> Iterator[Finding]:
    for doc in stream.live():
        spec = doc.obj.get("spec")
        if doc.kind != "Service" or not isinstance(spec, dict):
            continue
        if spec.get("type") != "LoadBalancer":
            continue
        if settings.load_balancer == "error":
            yield Finding(
                ID,
                ERROR,
                "Service type LoadBalancer is rejected by the platform",
                doc,
                "spec.type",
                fix=f"set {_chart_value(doc)}: ClusterIP and {_EXPOSE}",
                rule=RULE,
            )
            continue
        spec["type"] = "ClusterIP"
        dropped = [name for name in _EXTERNAL_ONLY if spec.pop(name, None) is not None]
        ports = spec.get("ports")
        for port in ports if isinstance(ports, list) else []:
            if isinstance(port, dict) and port.pop("nodePort", None) is not None:
                dropped.append(f"ports[{port.get('name', '?')}].nodePort")
        extra = f", dropped {', '.join(dropped)}" if dropped else ""
        yield Finding(
            ID,
            CHANGE,
            f"type LoadBalancer -> ClusterIP{extra} (the platform rejects LoadBalancer Services; "
            f"{_EXPOSE}, or set {_chart_value(doc)}: ClusterIP)",
            doc,
            "spec.type",
        )
