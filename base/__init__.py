"""The base every stage imports downward: settings and the identity-number hash and mask."""
