// Builds API clients from the config; every client reports to the same observer.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "hotdata/api.h"

namespace hdm {

std::unique_ptr<hotdata::HotdataApi> MakeApiClient(const ApiConfig& api, const std::string& token,
                                                   hotdata::RequestObserver* observer);

}  // namespace hdm
