"""Huiqi (惠企): match Chinese companies to the government support measures they qualify for."""
