print("sluice-broker: not yet")
