"""名特优新 classification as pure functions (../shared/spec/classification.md).

- ``model``: the records the round and the review work on (applications, businesses, the register).
- ``standard``: the score of an application under its business's classification standard.
- ``round``: the yearly round — every application one outcome with every reason code.
- ``review``: the register's yearly review — cancellations, operator changes, extensions, expiry, revocation.
- ``frames``: Polars frames in and out of these records, for the flows.
"""
