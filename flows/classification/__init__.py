"""名特优新 classification: reading its inbox, the round and review commands, outputs, warehouse, Prefect flow.

- ``inbox``: ``<inbox>/classification/`` read and validated with the cycle's readers and row rules.
- ``standards``: ``data/classification/<code>.toml`` loaded and checked.
- ``cycle_data``: what the round needs from the province's typing cycle of the year.
- ``register``: the register's state between steps (round / review of each year), kept under ``work/``.
- ``commands``: the round and the review end to end; ``outputs``, ``report``, ``warehouse``: what they publish.
- ``cli``: ``getihu classify``; ``flow``: the Prefect flows and their deployments.
"""
