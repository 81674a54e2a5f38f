"""Every rate of the synthetic city in one place, so tests and docs can cite them.

`Shape` says how the world is wired (how many shareholders, who is listed ...); `Noise` says how
departments garble what they export. Noise rates are per value at noise=1.0 and scale linearly
with `noise` (capped at 1); the registry, the cleanest source, applies them times
`Noise.registry_factor`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace


@dataclass(frozen=True)
class Shape:
    # enterprises
    other_registrar: float = 0.015      # USCC not starting with 9 (N, Y, 5, 1): not in the registry
    out_of_city: float = 0.03           # firms of other cities: copy a local trade name (hard negative)
    same_trade_other_industry: float = 0.08  # reuse an earlier trade name in another industry
    popular_trade: float = 0.05         # take one of vocab popular_trades
    with_branches: float = 0.04         # local firms with 1-2 branches (分公司)
    shared_address: float = 0.02        # registered at an incubator / agent address
    shared_phone: float = 0.15          # reuse the phone of another firm of the same legal rep
    # shareholders: P(k holders) for k = 1..6; share of slots held by an enterprise
    holders_k: tuple = (0.5, 0.33, 0.1, 0.04, 0.02, 0.01)
    holder_enterprise: float = 0.15
    legal_rep_holds: float = 0.7        # first holder is the legal representative
    partial_total: float = 0.08         # ratios sum below 1 (holders not all listed)
    # people around a firm
    active_persons: float = 0.55        # share of persons who run, own or manage firms
    manager_listed: float = 0.3         # 经理 in personnel (small firms)
    finance_listed: float = 0.1         # 财务负责人 in personnel
    employed: float = 0.45              # persons in the social insurance export
    # lists and department coverage
    taxed: float = 0.45                 # firms in the tax grade export
    tax_grades: tuple = (("A", 0.25), ("B", 0.45), ("M", 0.2), ("C", 0.06), ("D", 0.04))
    major_tax_violation: float = 0.006
    court_enterprise: float = 0.025
    court_person: float = 0.012
    court_person_legal_rep: float = 0.5  # listed persons drawn among legal reps of listed firms
    court_repeat: float = 0.3           # P(one more case for the same debtor), geometric
    customs: float = 0.04
    customs_levels: tuple = (("高级认证企业", 0.1), ("一般信用企业", 0.85), ("失信企业", 0.05))
    arrears: float = 0.03
    guaranteed: float = 0.12            # firms with a guaranteed loan
    guarantor_person: float = 0.3       # guarantor is a person (often the borrower's legal rep)
    cycles_per_1000: float = 2.5        # planted guarantee cycles (length 2-5) per 1000 firms


@dataclass(frozen=True)
class Noise:
    registry_factor: float = 0.25
    # enterprise names
    division_drop: float = 0.12         # 营口市鑫达贸易有限公司 -> 鑫达贸易有限公司
    division_short: float = 0.15        # 营口市 -> 营口
    division_bracket: float = 0.04      # 鑫达贸易(营口)有限公司
    form_variant: float = 0.15          # 有限公司 <-> 有限责任公司, 股份有限公司 <-> 股份公司
    fullwidth: float = 0.05             # full-width brackets, letters, digits
    traditional: float = 0.03           # OpenCC s2t on the whole name
    homophone: float = 0.02             # 鑫 -> 新 in the trade name
    space: float = 0.02                 # a stray space inside the name
    # person names
    person_traditional: float = 0.01
    person_homophone: float = 0.005
    person_space: float = 0.01          # 张 伟
    dot_variant: float = 0.5            # minority names: another middle-dot code point
    # identifiers
    id_missing: float = 0.03
    id_missing_keyed: float = 0.003     # where a filing requires the number: registry legal rep, shareholders,
                                        # personnel, social insurance, guarantee contracts
    id_typo: float = 0.01               # one character changed: the checksum fails
    id_lowercase: float = 0.04          # lower-case USCC letters, lower-case x
    id_fullwidth: float = 0.01
    ric15: float = 0.03                 # legacy 15-digit identity number (social insurance: x4)
    uscc_as_org_code: float = 0.05      # organisation code instead of the USCC (per source, x below)
    uscc_as_regno: float = 0.02         # old 15-digit registration number instead (pre-2015 firms)
    # per-source habits (not scaled by registry_factor)
    tax_old_number: float = 0.15        # 15-character old tax number in tax.csv
    court_org_code: float = 0.5         # courts print the organisation code 12345678-9
    court_mask_year: float = 0.5        # 2108021980****3018 instead of 210802********3018
    social_org_code: float = 0.25
    # values
    date_other_format: float = 0.6      # share of dates not in ISO form (registry: x factor)
    bad_row: float = 0.0001             # deliberately broken rows (at least one of each kind)

    def scaled(self, noise: float) -> "Noise":
        """Rates times `noise` (capped at 1); the registry factor and dot variants stay."""
        keep = {"registry_factor", "dot_variant", "date_other_format"}
        return replace(self, **{f.name: min(1.0, getattr(self, f.name) * noise)
                                for f in fields(self) if f.name not in keep})

    def for_registry(self) -> "Noise":
        """Registry rates: x registry_factor, and no mistyped identifiers (the registry issues them)."""
        scaled = {f.name: getattr(self, f.name) * self.registry_factor
                  for f in fields(self) if f.name not in ("registry_factor", "bad_row")}
        return replace(self, **{**scaled, "id_typo": 0.0})

    def as_dict(self) -> dict:
        return asdict(self)
