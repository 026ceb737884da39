"""The Python shop repository and the scripted replies the Agentless localizer tests share."""

from __future__ import annotations

from swepipe.models.scripted_rules import Rule

CART_PY = '''"""Shopping cart."""

TAX_RATE = 0.2


class Cart:
    def __init__(self, items):
        self.items = list(items)

    def total(self):
        return sum(item.price for item in self.items)

    def total_with_tax(self):
        return self.total() * (1 + TAX_RATE)


def empty_cart():
    return Cart([])
'''
PRICING_PY = '''"""Prices and discounts."""


def apply_discount(amount, pct):
    return amount * (1 - pct)


def round_price(amount):
    return round(amount, 2)
'''
PY_FILES = {"shop/cart.py": CART_PY, "shop/pricing.py": PRICING_PY, "shop/__init__.py": "",
            "shop/util/strings.py": "def slug(s):\n    return s.lower()\n",
            "docs/conf.py": 'project = "shop"\n',
            "tests/test_cart.py": "def test_total():\n    pass\n", "README.md": "# shop\n"}
ISSUE = "Cart.total ignores item quantity\n\nCart.total() sums prices but not quantities."

FILES_REPLY = "Here are the files:\n```\nshop/cart.py\nshop/missing.py\n- `shop/pricing.py`\n```"
RELATED_REPLY = """```
shop/cart.py
class: Cart
function: Cart.nope
variable: TAX_RATE

shop/pricing.py
function: apply_discount

shop/elsewhere.py
function: foo
```"""
# Seeds are sample * (max_retries + 1) + attempt; the scripted server picks reply[seed % 6].
EDIT_REPLIES = [
    "```\nshop/cart.py\nline: 11\nfunction: Cart.total\n```",  # sample 0
    "unused",
    "Sorry, I cannot tell from this code.",  # sample 1, attempt 0: nothing usable -> retry
    "shop/pricing.py\nline: 5",  # sample 1, attempt 1
    "```\nshop/cart.py\nline: 900\nfunction: empty_cart\n```",  # sample 2: one line outside
    "unused",
]


def python_rules() -> list[Rule]:
    return [Rule(pattern="list the files that one would need to edit", reply=FILES_REPLY),
            Rule(pattern="Skeleton of Relevant Files", reply=RELATED_REPLY),
            Rule(pattern="name the locations that need to be edited", reply=EDIT_REPLIES)]
