Gem::Specification.new do |s|
  s.name = "noversion".freeze
  s.summary = "missing version"
end
