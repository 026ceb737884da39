"""A small shop repository and an issue about it: the retrieval tests' shared fixture data."""

from pathlib import Path

from swepipe.localize.retrieval import RetrievalLocalizerConfig
from swepipe.protocols import StageContext
from swepipe.repos.checkout import CheckoutConfig, Checkouts
from swepipe.types import Instance
from tests.repos.gitrepo import SHOP_FILES, make_repo

FILES = {
    **SHOP_FILES,
    "shop/payments.py": '''"""Payment processing."""


class PaymentGateway:
    def charge(self, card, amount):
        """Charge `amount` cents to the card; refuses negative amounts."""
        if amount < 0:
            raise ValueError("negative amount")
        return self.client.post("/charge", {"card": card, "amount": amount})

    def refund(self, charge_id):
        return self.client.post("/refund", {"id": charge_id})
''',
    "shop/shipping.py": '''"""Shipping cost estimates."""

ZONES = {"eu": 5, "us": 7}


def shipping_cost(weight_kg, zone):
    """Cost of shipping a parcel of `weight_kg` to `zone`."""
    return ZONES[zone] * max(1, round(weight_kg))
''',
    "shop/emails.py": '''"""Outgoing customer emails."""


def send_receipt(order, mailer):
    """Email the receipt of `order` to its customer."""
    mailer.send(order.customer.email, subject="Your receipt", body=order.summary())
''',
}

ISSUE = """Cart.total_price rounds the taxed subtotal wrongly

When a cart holds items whose prices have three decimals, total_price() returns a
value rounded before the tax is applied, so customers are charged one cent too much.
Expected: the subtotal including tax is rounded to cents once.
"""


def shop_setup(tmp_path: Path) -> tuple[Instance, StageContext, RetrievalLocalizerConfig]:
    """A git repository of FILES checked out, the instance asking ISSUE, a retrieval config
    with its own index dir."""
    repos = tmp_path / "repos"
    sha = make_repo(repos / "acme__shop", FILES)
    checkout = Checkouts(CheckoutConfig(cache_dir=tmp_path / "checkouts",
                                        repos_dir=repos)).checkout("acme/shop", sha)
    instance = Instance(instance_id="acme__shop-1", repo="acme/shop", base_commit=sha,
                        problem_statement=ISSUE)
    config = RetrievalLocalizerConfig(index_dir=tmp_path / "indexes", top_files=5, top_chunks=5)
    return instance, StageContext(model=None, repo_dir=checkout), config
