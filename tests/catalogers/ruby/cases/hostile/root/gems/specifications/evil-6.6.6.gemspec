# -*- encoding: utf-8 -*-
system("rm -rf /") # never evaluated: the cataloger only reads assignments
Gem::Specification.new do |spec|
  spec.name    = 'evil'
  spec.version = Gem::Version.new("6.6.6")
  spec.licenses = ['MIT', "Apache-2.0".freeze]
  spec.description = %q{s.name = "decoy"}
end
