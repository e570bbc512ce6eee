"""model-bakery recipes for the catalogue rows tests build by hand: providers, models, families and priced offers.

    provider.make(slug="acme")                                  # a provider with a unique slug and a name
    openai_compatible_provider.make(api_base_url=server.url)     # probeable: its key is FAKE_PROVIDER_API_KEY
    offer.make(provider=p, model=m, price_input=Decimal("0.5"))  # a mapping priced 1.00 / 2.00 unless told
    offer.make()                                                # …with a new provider and model of its own

Override any field at `make`; a recipe names only what tests rely on, model-bakery fills the rest.
"""

from __future__ import annotations

from decimal import Decimal

from model_bakery.recipe import Recipe, foreign_key, seq

from catalog.models import Alias, Family, Mapping, Model, Provider

PROBE_KEY_ENV = "FAKE_PROVIDER_API_KEY"  # the variable the telemetry and security tests set to a fake key

provider = Recipe(Provider, slug=seq("provider-"), name=seq("Provider "))
openai_compatible_provider = provider.extend(api_key_env=PROBE_KEY_ENV, openai_compatible=True)
model = Recipe(Model, slug=seq("model-"), name=seq("Model "))
text_model = model.extend(input_modalities=["text"], output_modalities=["text"])
family = Recipe(Family, slug=seq("family-"), name=seq("Family "), creator=foreign_key(provider))
alias = Recipe(Alias, alias=seq("alias-"), model=foreign_key(model))
offer = Recipe(
    Mapping,
    provider=foreign_key(provider),
    model=foreign_key(model),
    provider_model_id=seq("provider-model-"),
    price_input=Decimal("1.00"),
    price_output=Decimal("2.00"),
)
