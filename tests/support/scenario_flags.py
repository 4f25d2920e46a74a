"""The common product scenario as a flagport flags file, for cross-provider tests.

The vendors' formats of the same scenario live in their ``testing`` modules
(``flagport_statsig.testing.scenario_specs`` and so on).
"""

SCENARIO_FLAGS_YAML = """
gates:
  new_checkout:
    rules:
      - {id: us, when: {country: US}}
      - {id: rollout, pass_percentage: 50}
experiments:
  button_color:
    groups:
      - {name: control, weight: 34, value: {color: gray}}
      - {name: blue, weight: 33, value: {color: blue}}
      - {name: green, weight: 33, value: {color: green}}
configs:
  pricing:
    default: {discount: 0}
    rules:
      - {id: pro, when: {plan: pro}, value: {discount: 0.1}}
"""
