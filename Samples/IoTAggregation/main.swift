print("iot: not yet")
