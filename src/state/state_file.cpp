namespace hdm {}  // placeholder
