#include "adaswarm/data/uci.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

namespace adaswarm::data {

namespace {

std::vector<ColumnRef> cols(std::initializer_list<int64_t> idx) {
  std::vector<ColumnRef> r;
  for (auto i : idx) r.push_back(ColumnRef::at(i));
  return r;
}
std::vector<ColumnRef> names(std::initializer_list<const char*> n) {
  std::vector<ColumnRef> r;
  for (auto s : n) r.push_back(ColumnRef::parse(s));
  return r;
}
std::vector<ColumnRef> range(int64_t b, int64_t e) {
  std::vector<ColumnRef> r;
  for (int64_t i = b; i < e; ++i) r.push_back(ColumnRef::at(i));
  return r;
}

UciSet make(std::string key, std::string paper, std::string file, int64_t rows, int64_t classes,
            std::string notes) {
  UciSet s;
  s.key = std::move(key);
  s.paper_name = std::move(paper);
  s.file = std::move(file);
  s.rows = rows;
  s.classes = classes;
  s.notes = std::move(notes);
  s.spec.name = s.key;
  s.spec.path = s.file;
  return s;
}

std::vector<UciSet> build_registry() {
  std::vector<UciSet> r;
  {
    auto s = make("iris", "Iris", "uci/iris/iris.csv", 150, 3, "4 numeric features; 3 classes");
    s.spec.classes = {"Iris-setosa", "Iris-versicolor", "Iris-virginica"};
    r.push_back(s);
  }
  {
    auto s = make("ionosphere", "Ionosphere", "uci/ionosphere/ionosphere.csv", 351, 2, "34 numeric; labels b/g");
    s.spec.classes = {"b", "g"};
    r.push_back(s);
  }
  {
    auto s = make("breast-cancer", "Wisconsin Breast Cancer", "uci/breast_cancer_wisconsin/breast-cancer-wisconsin.data",
                  699, 2, "original 9-attribute set; id column dropped; 16 '?' (bare nuclei) imputed; 2 benign / 4 malignant");
    s.spec.drop = cols({0});
    s.spec.classes = {"2", "4"};
    r.push_back(s);
  }
  {
    auto s = make("sonar", "Sonar", "uci/sonar/sonar.csv", 208, 2, "60 numeric; labels M/R");
    s.spec.classes = {"M", "R"};
    r.push_back(s);
  }
  {
    auto s = make("seeds", "Wheat Seeds", "uci/wheat_seeds/wheat-seeds.csv", 210, 3, "7 numeric; 3 varieties");
    s.spec.classes = {"1", "2", "3"};
    r.push_back(s);
  }
  {
    auto s = make("banknote", "Bank Note Authentication", "uci/banknote/banknote_authentication.csv", 1372, 2,
                  "4 numeric; CRLF line ends");
    s.spec.classes = {"0", "1"};
    r.push_back(s);
  }
  {
    auto s = make("heart", "Heart Disease", "uci/heart_disease_cleveland/processed.cleveland.data", 303, 2,
                  "Cleveland, 13 features kept numeric; label 0..4 binarised (> 0 = disease); 6 '?' imputed");
    s.spec.label_threshold = 0.0;
    s.spec.classes = {"0", "1"};
    r.push_back(s);
  }
  {
    auto s = make("haberman", "Haberman's Survival", "uci/haberman/haberman.csv", 306, 2, "3 numeric; 1 survived 5y / 2 died");
    s.spec.classes = {"1", "2"};
    r.push_back(s);
  }
  {
    auto s = make("wine", "Wine", "uci/wine/wine.csv", 178, 3, "13 numeric; label in the LAST column of this copy");
    s.spec.classes = {"1", "2", "3"};
    r.push_back(s);
  }
  {
    auto s = make("car", "Car Evaluation", "uci/car_evaluation/car.data", 1728, 4, "6 categorical features, one-hot (21 inputs)");
    s.spec.categorical = range(0, 6);
    s.spec.classes = {"unacc", "acc", "good", "vgood"};
    r.push_back(s);
  }
  {
    auto s = make("liver", "Indian Liver Patient", "uci/indian_liver_patient/ILPD.csv", 583, 2,
                  "10 features, gender one-hot; 4 empty A/G ratios imputed; 1 patient / 2 not");
    s.spec.categorical = cols({1});
    s.spec.classes = {"1", "2"};
    r.push_back(s);
  }
  {
    auto s = make("abalone", "Abalone", "uci/abalone/abalone.csv", 4177, 2,
                  "sex one-hot + 7 numeric; 2 classes: rings > 11 (23.0%) vs rings <= 11 (77.0%), the threshold "
                  "whose majority share matches the 77% that the paper reports for its weakest optimizers");
    s.spec.categorical = cols({0});
    s.spec.label_threshold = 11.0;
    s.spec.classes = {"0", "1"};
    r.push_back(s);
  }
  {
    auto s = make("titanic", "Titanic", "uci/titanic/train.csv", 891, 2,
                  "Kaggle train.csv; 7 features Pclass, Sex, Age, SibSp, Parch, Fare, Embarked (Sex, Embarked one-hot); "
                  "177 missing ages, 2 missing ports imputed");
    s.spec.csv.header = true;
    s.spec.label = ColumnRef::parse("Survived");
    s.spec.drop = names({"PassengerId", "Name", "Ticket", "Cabin"});
    s.spec.categorical = names({"Sex", "Embarked"});
    s.spec.classes = {"0", "1"};
    r.push_back(s);
  }
  {
    auto s = make("pima", "Pima India Diabetes", "uci/pima_diabetes/pima-indians-diabetes.csv", 768, 2,
                  "8 numeric (zeros kept as recorded)");
    s.spec.classes = {"0", "1"};
    r.push_back(s);
  }
  {
    auto s = make("mushroom", "Agaricus Lepiota", "uci/mushroom/agaricus-lepiota.data", 8124, 2,
                  "label FIRST (e/p); 22 categorical, one-hot; 2480 '?' in stalk-root imputed with the training mode");
    s.spec.label = ColumnRef::at(0);
    s.spec.categorical = range(1, 23);
    s.spec.classes = {"e", "p"};
    r.push_back(s);
  }
  return r;
}

}  // namespace

const std::vector<UciSet>& uci_registry() {
  static const std::vector<UciSet> registry = build_registry();
  return registry;
}

const UciSet& uci_set(const std::string& key) {
  for (const auto& s : uci_registry())
    if (s.key == key) return s;
  std::string known;
  for (const auto& s : uci_registry()) known += (known.empty() ? "" : ", ") + s.key;
  throw std::invalid_argument(fmt::format("unknown data set '{}' (known: {})", key, known));
}

TabularSpec uci_spec(const UciSet& set, const std::string& data_dir) {
  TabularSpec spec = set.spec;
  spec.path = (std::filesystem::path(data_dir) / set.file).string();
  return spec;
}

Dataset load_uci(const std::string& key, const std::string& data_dir) {
  const auto& set = uci_set(key);
  Dataset d = load_tabular(uci_spec(set, data_dir));
  d.name = set.key;
  return d;
}

std::string find_data_dir(const std::string& preferred, const std::vector<std::string>& candidates) {
  std::vector<std::string> tried;
  auto ok = [](const std::string& dir) {
    std::error_code ec;
    return std::filesystem::exists(std::filesystem::path(dir) / "uci" / "iris" / "iris.csv", ec);
  };
  if (!preferred.empty()) {
    if (ok(preferred)) return preferred;
    throw std::runtime_error(fmt::format("data directory '{}' has no uci/iris/iris.csv", preferred));
  }
  if (const char* env = std::getenv("ADASWARM_DATA_DIR"); env && *env) {
    if (ok(env)) return env;
    tried.push_back(std::string(env) + " ($ADASWARM_DATA_DIR)");
  }
  for (const auto& c : candidates) {
    if (c.empty()) continue;
    if (ok(c)) return c;
    tried.push_back(c);
  }
  std::string t;
  for (const auto& s : tried) t += (t.empty() ? "" : ", ") + s;
  throw std::runtime_error(fmt::format("cannot find the UCI data (looked in: {}); pass --data-dir", t));
}

}  // namespace adaswarm::data
