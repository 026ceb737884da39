"""Localizers: components that implement `Localizer.locate(instance, ctx) -> list[CodePointer]`."""
