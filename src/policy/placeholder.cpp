namespace hdm {}  // placeholder until the policy engine lands
