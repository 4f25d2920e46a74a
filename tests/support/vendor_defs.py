"""One gate and one experiment, defined for each vendor SDK and for flagport alike.

Used by ``test_bucketing_vs_vendors.py`` and reusable by benchmarks: the
``*_defs``/``offline_*`` builders give the real vendor SDKs running fully offline
(no network: Statsig with ``disable_network`` and an in-memory data store,
GrowthBook with a features dict, FeatBit with ``offline=True`` and a data-sync
payload), and :func:`flagport_flags` gives the flags file whose local evaluation
must put every unit in the same place.

The scenario: gate ``GATE`` is a 50 % rollout for everyone; experiment ``EXPERIMENT``
splits units into ``control / blue / green`` by the mode's weights (the ``*_WEIGHTS``
constants, in percent, as close to thirds as each vendor's own console writes them).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

GATE = "new_checkout"
GATE_SALT = "new_checkout_salt"  # a Statsig gate salt is its own field, not its name
RULE_ID = "rule_rollout50"
EXPERIMENT = "button_color"
EXPERIMENT_SALT = "button_color_salt"
NAMESPACED = "button_color_ns"  # GrowthBook only: the experiment with namespace and coverage
NAMESPACE = ("checkout_ns", 0.2, 0.9)
NAMESPACED_COVERAGE = 0.8
GROUPS = ("control", "blue", "green")
STATSIG_WEIGHTS = (33.4, 33.3, 33.3)  # Statsig: bucket < 334 / 667 / 1000
GROWTHBOOK_WEIGHTS = (33.34, 33.33, 33.33)  # GrowthBook: weights 0.3334 / 0.3333 / 0.3333
FEATBIT_WEIGHTS = (33.33, 33.33, 33.34)  # FeatBit: rollouts [0, .3333) [.3333, .6666) ...

#: 10,000 unit ids, the last few non-ASCII (one outside the BMP: UTF-16 surrogates).
USER_IDS: list[str] = [f"user-{i}" for i in range(9_996)] + [
    "ünïcødé-用户-😀",
    "😀",
    "Ünïcode ID 42",
    "Ωμέγα",
]


# -- flagport -----------------------------------------------------------------------


def flagport_flags(mode: str) -> dict[str, Any]:
    """The flags file (as a mapping) equivalent to the vendor definitions below."""
    weights = {
        "statsig": STATSIG_WEIGHTS,
        "growthbook": GROWTHBOOK_WEIGHTS,
        "growthbook_v1": GROWTHBOOK_WEIGHTS,
        "featbit": FEATBIT_WEIGHTS,
    }[mode]
    # Each vendor names its salts differently; see flagport.providers.local.bucketing.
    gate_salt = GATE_SALT if mode == "statsig" else GATE
    experiment_salt = EXPERIMENT_SALT if mode == "statsig" else EXPERIMENT
    groups = [
        {"name": name, "weight": weight, "value": {"color": name}}
        for name, weight in zip(GROUPS, weights, strict=True)
    ]
    return {
        "hash": mode,
        "gates": {
            GATE: {"salt": gate_salt, "rules": [{"id": RULE_ID, "pass_percentage": 50}]},
        },
        "experiments": {EXPERIMENT: {"salt": experiment_salt, "groups": groups}},
    }


# -- Statsig ------------------------------------------------------------------------


def statsig_specs(weights: tuple[float, ...] = STATSIG_WEIGHTS) -> dict[str, Any]:
    """A DCS v2 payload (Statsig's internal specs format) for the gate and experiment."""
    thresholds = []
    total = 0.0
    for weight in weights:
        total += weight
        thresholds.append(round(total * 10))
    public = {
        "type": "public",
        "targetValue": None,
        "operator": None,
        "field": None,
        "additionalValues": {},
        "idType": "userID",
    }
    conditions: dict[str, Any] = {"cond_public": public}
    group_rules = []
    for name, threshold in zip(GROUPS, thresholds, strict=True):
        cond_id = f"cond_bucket_lt_{threshold}"
        conditions[cond_id] = {
            "type": "user_bucket",
            "targetValue": threshold,
            "operator": "lt",
            "field": None,
            "additionalValues": {"salt": EXPERIMENT_SALT},
            "idType": "userID",
        }
        group_rules.append(
            {
                "name": name,
                "id": f"grp_{name}",
                "salt": f"grp_{name}",
                "groupName": name,
                "passPercentage": 100,
                "isExperimentGroup": True,
                "conditions": [cond_id],
                "returnValue": {"color": name},
                "idType": "userID",
            }
        )
    return {
        "has_updates": True,
        "time": 1_700_000_000_000,
        "response_format": "dcs-v2",
        "company_id": "local",
        "feature_gates": {
            GATE: {
                "type": "feature_gate",
                "entity": "feature_gate",
                "salt": GATE_SALT,
                "enabled": True,
                "defaultValue": False,
                "idType": "userID",
                "rules": [
                    {
                        "name": RULE_ID,
                        "id": RULE_ID,
                        "salt": RULE_ID,
                        "passPercentage": 50,
                        "conditions": ["cond_public"],
                        "returnValue": True,
                        "idType": "userID",
                    },
                ],
            },
        },
        "dynamic_configs": {
            EXPERIMENT: {
                "type": "dynamic_config",
                "entity": "experiment",
                "salt": EXPERIMENT_SALT,
                "enabled": True,
                "isActive": True,
                "hasSharedParams": False,
                "defaultValue": {},
                "idType": "userID",
                "rules": group_rules,
            },
        },
        "layer_configs": {},
        "experiment_to_layer": {},
        "condition_map": conditions,
        "diagnostics": None,
    }


def offline_statsig(specs: dict[str, Any] | None = None) -> Any:
    """An initialised ``statsig_python_core.Statsig`` that never touches the network.

    Call ``.shutdown().wait(5)`` when done.
    """
    from statsig_python_core import DataStore, DataStoreResponse, Statsig, StatsigOptions

    payload = json.dumps(statsig_specs() if specs is None else specs)

    class SpecsInMemory(DataStore):  # type: ignore[misc]
        def initialize(self) -> None:
            pass

        def shutdown(self) -> None:
            pass

        def get(self, key: str) -> Any:
            if "download_config_specs" in key:
                return DataStoreResponse(result=payload, time=int(time.time() * 1000))
            return DataStoreResponse(result=None, time=None)

        def set(self, key: str, value: str, time: int | None = None) -> None:
            pass

        def support_polling_updates_for(self, key: str) -> bool:
            return False

    options = StatsigOptions(
        disable_network=True,
        data_store=SpecsInMemory(),
        disable_country_lookup=True,
        output_log_level="error",
    )
    client = Statsig("secret-offline-flagport", options)
    details = client.initialize_with_details().result(timeout=10)
    if not details.init_success:
        raise RuntimeError(f"offline Statsig did not initialise: {details.failure_details}")
    return client


# -- GrowthBook ---------------------------------------------------------------------


def growthbook_features(hash_version: int | None = 2) -> dict[str, Any]:
    """GrowthBook features: the rollout, the experiment, and a namespaced experiment.

    :param hash_version: 2, 1, or ``None`` to omit it (GrowthBook then uses v1).
    """
    version = {} if hash_version is None else {"hashVersion": hash_version}
    weights = [round(w / 100, 10) for w in GROWTHBOOK_WEIGHTS]
    meta = [{"key": name} for name in GROUPS]

    def experiment(key: str, **extra: Any) -> dict[str, Any]:
        rule = {
            "id": f"fr_{key}",
            "key": key,
            "seed": key,
            "hashAttribute": "id",
            "coverage": 1,
            "weights": weights,
            "variations": [0, 1, 2],
            "meta": meta,
        }
        return {"defaultValue": -1, "rules": [{**rule, **version, **extra}]}

    return {
        GATE: {
            "defaultValue": False,
            "rules": [
                {
                    "id": "fr_rollout50",
                    "force": True,
                    "coverage": 0.5,
                    "hashAttribute": "id",
                    "seed": GATE,
                    **version,
                }
            ],
        },
        EXPERIMENT: experiment(EXPERIMENT),
        NAMESPACED: experiment(NAMESPACED, namespace=list(NAMESPACE), coverage=NAMESPACED_COVERAGE),
    }


# -- FeatBit ------------------------------------------------------------------------


def _featbit_flag(
    key: str, kind: str, variations: list[tuple[str, str]], rollouts: list[tuple[str, float, float]]
) -> dict[str, Any]:
    stamp = "2026-01-01T00:00:00Z"
    return {
        "id": f"id-{key}",
        "envId": "local-env",
        "key": key,
        "name": key,
        "variationType": kind,
        "variations": [{"id": vid, "value": value} for vid, value in variations],
        "targetUsers": [],
        "rules": [],
        "isEnabled": True,
        "disabledVariationId": variations[-1][0],
        "fallthrough": {
            "dispatchKey": "keyId",
            "includedInExpt": True,
            "variations": [
                {"id": vid, "rollout": [lo, hi], "exptRollout": 1} for vid, lo, hi in rollouts
            ],
        },
        "exptIncludeAllTargets": True,
        "tags": [],
        "isArchived": False,
        "createdAt": stamp,
        "updatedAt": stamp,
    }


def featbit_payload() -> str:
    """The data-sync message (JSON) ``FBClient.initialize_from_external_json`` takes."""
    gate = _featbit_flag(
        GATE, "boolean", [("on", "true"), ("off", "false")], [("on", 0, 0.5), ("off", 0.5, 1)]
    )
    rollouts = []
    start = 0.0
    for name, weight in zip(GROUPS, FEATBIT_WEIGHTS, strict=True):
        rollouts.append((name, round(start / 100, 10), round((start + weight) / 100, 10)))
        start += weight
    values = [(name, json.dumps({"color": name})) for name in GROUPS]
    experiment = _featbit_flag(EXPERIMENT, "json", values, rollouts)
    data = {"eventType": "full", "featureFlags": [gate, experiment], "segments": []}
    return json.dumps({"messageType": "data-sync", "data": data})


def offline_featbit() -> Any:
    """An offline ``fbclient.FBClient`` loaded with :func:`featbit_payload`.

    Call ``.stop()`` when done.
    """
    from fbclient import Config, FBClient

    # FeatBit logs every evaluation at INFO.
    logging.getLogger("fbclient").setLevel(logging.WARNING)
    client = FBClient(Config("offline-env-secret", "http://unused", "ws://unused", offline=True), 0)
    if not client.initialize_from_external_json(featbit_payload()):
        raise RuntimeError("offline FeatBit refused the data-sync payload")
    return client
